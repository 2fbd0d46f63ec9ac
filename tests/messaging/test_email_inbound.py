"""Inbound e-mail (the client's inbound-parse webhook, Mailgun's shape and signature): a late bounce (an RFC 3464
delivery status notification) fails its delivery and bounces the address; a reply reaches the person's e-mail
conversation; forged, stale, replayed or foreign requests change nothing; bad input is a 4xx."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from email.message import EmailMessage

import pytest

from apps.conversations.models import Conversation
from apps.integrations.models import Delivery
from apps.messaging.contacts import contact_for
from apps.messaging.email_inbound import inbound_email_secret
from apps.messaging.models import Contact
from tests.messaging.conftest import in_schema

pytestmark = pytest.mark.django_db
OUR_ID = "<3f1c0ffee@vocalia>"


def _signed(client, fields: dict[str, str], *, secret: str | None = None, age: int = 0) -> dict[str, str]:
    timestamp, token = str(int(time.time()) - age), uuid.uuid4().hex
    key = (secret or inbound_email_secret(client)).encode()
    signature = hmac.new(key, (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {**fields, "timestamp": timestamp, "token": token, "signature": signature}


def _dsn(*, status: str = "5.1.1", action: str = "failed", original: str = OUR_ID) -> str:
    """A bounce as Postfix writes it (RFC 3464): multipart/report with a human part, the machine-readable
    message/delivery-status part, and the original message's headers."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: noreply@alpha.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"\r\n'
        "\r\n"
        "--B0UND\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at host mx.example.net. Your message could not be delivered.\r\n"
        "\r\n--B0UND\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "Arrival-Date: Tue,  1 Dec 2026 18:00:00 +0100 (CET)\r\n\r\n"
        "Final-Recipient: rfc822; bob@example.com\r\n"
        "Original-Recipient: rfc822;bob@example.com\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mail.example.com\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown\r\n"
        "\r\n--B0UND\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original}\r\n"
        "From: noreply@alpha.example\r\n"
        "To: bob@example.com\r\n"
        "Subject: Your appointment\r\n"
        "\r\n--B0UND--\r\n")


def _sent_email(client) -> Delivery:
    with in_schema(client):
        return Delivery.objects.create(channel="email", to="bob@example.com", subject="Your appointment",
                                       body="See you tomorrow", provider="smtp", provider_message_id=OUR_ID,
                                       status="sent")


def test_a_late_bounce_fails_its_delivery_and_bounces_the_address(cast, http):
    delivery = _sent_email(cast.client_a)
    response = http.post("/email/inbound/alpha/", _signed(cast.client_a, {"body-mime": _dsn(),
                                                                          "recipient": "replies@alpha.example"}))
    assert response.status_code == 200 and response.json() == {"action": "bounce", "delivery": delivery.pk}
    with in_schema(cast.client_a):
        delivery.refresh_from_db()
        assert delivery.status == "failed" and "5.1.1" in delivery.last_error
        contact = Contact.objects.get(channel="email", address="bob@example.com")
        assert contact.bounced_at is not None and "User unknown" in contact.bounce_reason


def test_a_delay_notice_changes_nothing(cast, http):
    delivery = _sent_email(cast.client_a)
    response = http.post("/email/inbound/alpha/", _signed(cast.client_a, {
        "body-mime": _dsn(status="4.4.7", action="delayed")}))
    assert response.status_code == 200 and response.json()["action"] == "ignored"
    with in_schema(cast.client_a):
        delivery.refresh_from_db()
        assert delivery.status == "sent"
        assert not Contact.objects.filter(address="bob@example.com", bounced_at__isnull=False).exists()


def test_a_reply_reaches_the_persons_email_conversation(cast, http, agent_a, django_capture_on_commit_callbacks):
    with in_schema(cast.client_a):
        contact_for(channel="email", address="amina@example.com", name="Amina")
    fields = {"sender": "Amina <Amina@Example.com>", "subject": "Re: Your appointment",
              "stripped-text": "Avez-vous de la place demain matin ?",
              "body-plain": "Avez-vous de la place demain matin ?\n\nLe lun. 30 nov., Alpha a écrit :\n> Bonjour",
              "recipient": "replies@alpha.example"}
    with django_capture_on_commit_callbacks(execute=True):  # the agent's turn (a Celery task, eager in tests)
        response = http.post("/email/inbound/alpha/", _signed(cast.client_a, fields))
    assert response.status_code == 200 and response.json()["action"] == "agent"
    with in_schema(cast.client_a):
        conversation = Conversation.objects.get(pk=response.json()["conversation"])
        assert conversation.channel == "email" and conversation.visitor_phone == "amina@example.com"
        texts = list(conversation.messages.order_by("id").values_list("role", "text"))
        assert texts[0] == ("user", "Avez-vous de la place demain matin ?")
        assert texts[-1][0] == "assistant" and texts[-1][1]
        reply = Delivery.objects.get(channel="email", to="amina@example.com", purpose="agent")
        assert reply.body == texts[-1][1]  # the agent answered by e-mail
    raw = EmailMessage()
    raw["From"], raw["Subject"] = "amina@example.com", "Re: Your appointment"
    raw.set_content("Et l'après-midi ?\n\nOn Mon, 30 Nov 2026, Alpha wrote:\n> Hello")
    again = http.post("/email/inbound/alpha/", _signed(cast.client_a, {"body-mime": raw.as_string()}))
    assert again.json() == {"action": "agent", "conversation": conversation.pk}  # the same conversation


def test_forged_stale_replayed_or_foreign_requests_change_nothing(cast, http):
    delivery = _sent_email(cast.client_a)
    body = {"body-mime": _dsn()}
    assert http.post("/email/inbound/alpha/", body).status_code == 403  # not signed
    assert http.post("/email/inbound/alpha/", _signed(cast.client_a, body, secret="0" * 64)).status_code == 403
    assert http.post("/email/inbound/alpha/", _signed(cast.client_b, body)).status_code == 403  # B's secret
    assert http.post("/email/inbound/alpha/", _signed(cast.client_a, body, age=3600)).status_code == 403
    assert http.post("/email/inbound/nobody/", _signed(cast.client_a, body)).status_code == 404
    # Client B's own hook with a bounce for A's message: B has no such delivery; A's stays as it was.
    assert http.post("/email/inbound/bravo/", _signed(cast.client_b, body)).status_code == 200
    signed = _signed(cast.client_a, {"body-mime": _dsn(status="4.0.0", action="delayed")})
    assert http.post("/email/inbound/alpha/", signed).status_code == 200
    assert http.post("/email/inbound/alpha/", signed).status_code == 403  # the same token again
    with in_schema(cast.client_a):
        delivery.refresh_from_db()
        assert delivery.status == "sent" and not Contact.objects.filter(bounced_at__isnull=False).exists()


@pytest.mark.parametrize("fields", [{"sender": "", "stripped-text": "ok"},
                                    {"sender": "not an address", "stripped-text": "ok"},
                                    {"body-mime": "\x00\x00garbage"}])
def test_bad_input_is_refused_with_a_clear_answer(cast, http, fields):
    response = http.post("/email/inbound/alpha/", _signed(cast.client_a, fields))
    assert response.status_code == 400
    with in_schema(cast.client_a):
        assert not Conversation.objects.filter(channel="email").exists()


def test_a_huge_message_is_a_413(cast, http):
    response = http.post("/email/inbound/alpha/", _signed(cast.client_a, {"body-mime": "x" * (3 * 1024 * 1024)}))
    assert response.status_code == 413


def test_managers_see_the_webhook_address_and_key_and_members_do_not(cast, as_user):
    page = as_user(cast.alice, cast.client_a).get("/messaging/").content.decode()
    assert "/email/inbound/alpha/" in page and inbound_email_secret(cast.client_a) in page
    page = as_user(cast.bob, cast.client_a).get("/messaging/").content.decode()
    assert inbound_email_secret(cast.client_a) not in page
    assert inbound_email_secret(cast.client_a) != inbound_email_secret(cast.client_b)
