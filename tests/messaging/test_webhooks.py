"""SMS and WhatsApp in: Twilio-shaped, signed webhooks; the agent answers on the same channel in one conversation per
person and channel; opt-out words in five languages; forged requests refused with nothing written; statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.integrations.models import Delivery
from apps.messaging.models import Contact
from tests.messaging.conftest import NUMBER_A, NUMBER_B, PERSON, in_schema, inbound_params, signed

pytestmark = pytest.mark.django_db
SMS, WHATSAPP, STATUS = "/telephony/twilio/messages/sms/", "/telephony/twilio/messages/whatsapp/", \
    "/telephony/twilio/messages/status/"


def test_it_answers_an_sms_in_one_conversation_per_person(cast, numbers, post_signed,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(SMS, inbound_params("Bonjour, quels sont vos horaires ?"))
    assert response.status_code == 200 and b"<Response>" in response.content
    assert response["Content-Type"].startswith("text/xml")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(SMS, inbound_params("Et le samedi ?")).status_code == 200
    with in_schema(cast.client_a):
        conversation = Conversation.objects.get(channel="sms", visitor_phone=PERSON)
        texts = list(conversation.messages.filter(role=Message.Role.USER).values_list("text", flat=True))
        assert texts == ["Bonjour, quels sont vos horaires ?", "Et le samedi ?"]
        replies = Delivery.objects.filter(channel="sms", to=PERSON, conversation=conversation, purpose="agent")
        assert replies.count() == 2 and all(reply.body for reply in replies)
        assert {reply.provider for reply in replies} == {"outbox"}  # no Twilio account connected: the twin
        contact = Contact.objects.get(channel="sms", address=PERSON)
        assert contact.last_inbound_at is not None
    with in_schema(cast.client_b):
        assert not Conversation.objects.filter(visitor_phone=PERSON).exists()


def test_it_opens_a_new_conversation_after_the_window(cast, numbers, post_signed,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(SMS, inbound_params("Bonjour"))
    with in_schema(cast.client_a):
        Conversation.objects.filter(visitor_phone=PERSON).update(last_activity=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(SMS, inbound_params("Re-bonjour"))
    with in_schema(cast.client_a):
        assert Conversation.objects.filter(channel="sms", visitor_phone=PERSON).count() == 2


def test_it_refuses_a_forged_or_unsigned_request_and_writes_nothing(cast, numbers, post_signed):
    params = inbound_params("Bonjour")
    for headers in ({"HTTP_X_TWILIO_SIGNATURE": "forged"}, signed(SMS, params, token="not-the-token"),
                    signed(SMS, {**params, "Body": "something else"}), {"HTTP_X_NOTHING": "x"}):
        response = post_signed(SMS, params, **headers)
        assert response.status_code == 403, headers
    assert post_signed(STATUS, {"MessageSid": "SM1", "MessageStatus": "delivered", "From": NUMBER_A},
                       HTTP_X_TWILIO_SIGNATURE="forged").status_code == 403
    with in_schema(cast.client_a):
        assert not Contact.objects.exists() and not Conversation.objects.filter(channel="sms").exists()
        assert not Delivery.objects.exists()


@pytest.mark.parametrize(("word", "language"), [("STOP", "en"), ("Arrêt", "fr"), ("baja", "es"),
                                                ("إيقاف", "ar"), ("حبس", "ary"), ("unsubscribe", "en")])
def test_it_honours_opt_out_words_in_five_languages(cast, numbers, post_signed, word, language,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(SMS, inbound_params(f" {word} ")).status_code == 200
        post_signed(SMS, inbound_params("Bonjour ?"))  # after the opt-out: recorded, not answered
    with in_schema(cast.client_a):
        contact = Contact.objects.get(channel="sms", address=PERSON)
        assert contact.opted_out and contact.opt_out_word == word
        assert not Delivery.objects.filter(to=PERSON).exists()  # on SMS Twilio confirms STOP itself
        assert not Conversation.objects.filter(visitor_phone=PERSON).exists()
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(SMS, inbound_params("START"))
    with in_schema(cast.client_a):
        contact.refresh_from_db()
        assert not contact.opted_out and contact.opted_in_at is not None
        assert Delivery.objects.filter(to=PERSON, purpose="opt_in").count() == 1


def test_it_takes_twilios_own_opt_out_type(cast, numbers, post_signed):
    post_signed(SMS, inbound_params("CANCEL", OptOutType="STOP"))
    with in_schema(cast.client_a):
        assert Contact.objects.get(address=PERSON).opted_out


def test_the_agent_refuses_to_message_an_opted_out_person(cast, numbers, post_signed):
    from apps.messaging.sending import MessageRefused, person_message_send

    post_signed(SMS, inbound_params("STOP"))
    with in_schema(cast.client_a), pytest.raises(MessageRefused) as refused:
        person_message_send(channel="sms", to="+33 6 12 34 56 78", body="Promo !", purpose="agent")
    assert refused.value.reason == "opted_out"


def test_whatsapp_messages_open_the_window_and_opt_out_is_confirmed(cast, numbers, whatsapp_plans, post_signed,
                                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(WHATSAPP, inbound_params("Salam, wach kayn chi blasa ghedda?",
                                                    channel="whatsapp")).status_code == 200
    with in_schema(cast.client_a):
        contact = Contact.objects.get(channel="whatsapp", address=PERSON)
        assert contact.window_open() and contact.name == "Amina"
        reply = Delivery.objects.get(channel="whatsapp", to=PERSON, purpose="agent")
        assert reply.content_sid == ""  # inside the window: free text
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(WHATSAPP, inbound_params("STOP", channel="whatsapp"))
    with in_schema(cast.client_a):
        assert Delivery.objects.filter(channel="whatsapp", purpose="opt_out").count() == 1


def test_a_plan_without_the_channel_or_an_unknown_number_writes_nothing(cast, numbers, post_signed):
    # Pro has no WhatsApp; client B (Starter) has no SMS; +15550109999 routes nowhere.
    assert post_signed(WHATSAPP, inbound_params("hi", channel="whatsapp")).status_code == 200
    assert post_signed(SMS, inbound_params("hi", to=NUMBER_B)).status_code == 200
    assert post_signed(SMS, inbound_params("hi", to="+15550109999")).status_code == 200
    for client in (cast.client_a, cast.client_b):
        with in_schema(client):
            assert not Contact.objects.exists()


def _status(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
            "AccountSid": "AC" + "0" * 32, "From": NUMBER_A, "To": PERSON, "ApiVersion": "2010-04-01", **extra}


def test_status_callbacks_move_the_delivery_forward_only(cast, numbers, post_signed):
    with in_schema(cast.client_a):
        delivery = Delivery.objects.create(channel="sms", to=PERSON, body="x", provider="twilio", status="sent",
                                           provider_message_id="SM" + "1" * 32)
    for status in ("sending", "delivered", "sent", "undelivered"):
        assert post_signed(STATUS, _status(delivery.provider_message_id, status)).status_code == 204
    with in_schema(cast.client_a):
        delivery.refresh_from_db()
        assert delivery.status == "delivered" and delivery.delivered_at is not None


def test_a_failed_status_with_an_unreachable_code_records_a_bounce(cast, numbers, post_signed):
    with in_schema(cast.client_a):
        delivery = Delivery.objects.create(channel="sms", to=PERSON, body="x", provider="twilio", status="sent",
                                           provider_message_id="SM" + "2" * 32)
    post_signed(STATUS, _status(delivery.provider_message_id, "undelivered", ErrorCode="30003"))
    with in_schema(cast.client_a):
        delivery.refresh_from_db()
        assert delivery.status == "failed" and delivery.last_error == "Twilio error 30003"
        assert Contact.objects.get(channel="sms", address=PERSON).bounced_at is not None


def test_a_status_signed_for_one_client_never_touches_anothers_delivery(cast, numbers, post_signed):
    sid = "SM" + "3" * 32
    with in_schema(cast.client_b):
        theirs = Delivery.objects.create(channel="sms", to=PERSON, body="x", provider="twilio", status="sent",
                                         provider_message_id=sid)
    assert post_signed(STATUS, _status(sid, "failed")).status_code == 204  # From: client A's number
    with in_schema(cast.client_b):
        theirs.refresh_from_db()
        assert theirs.status == "sent"


@pytest.mark.parametrize("body", ["a\x00b", "x" * 20000, "{" * 5000, "9" * 400, "🙂 émoji مرحبا"])
def test_it_survives_bad_bodies(cast, numbers, post_signed, body, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(SMS, inbound_params(body))
    assert response.status_code in (200, 400)
    with in_schema(cast.client_a):
        for message in Message.objects.filter(conversation__visitor_phone=PERSON):
            assert "\x00" not in message.text and len(message.text) <= 4000


def test_it_refuses_undecodable_bytes_without_a_500(numbers, http):
    from urllib.parse import urlencode

    raw = urlencode(inbound_params("x")).replace("Body=x", "Body=%ED%A0%80%FF")  # a lone surrogate, invalid UTF-8
    response = http.post(SMS, raw, content_type="application/x-www-form-urlencoded",
                         HTTP_X_TWILIO_SIGNATURE="anything")
    assert response.status_code in (400, 403)


@pytest.mark.parametrize("sender", ["not-a-number", "+1", "whatsapp:", "", "+33\x006"])
def test_it_answers_400_for_a_bad_sender(cast, numbers, post_signed, sender):
    response = post_signed(SMS, inbound_params("hi", sender=sender))
    assert response.status_code == 400
    with in_schema(cast.client_a):
        assert not Contact.objects.exists()


def test_get_is_refused(numbers, http):
    assert http.get(SMS).status_code == 405


def test_the_simulator_command_posts_a_signed_message(cast, numbers, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("message_simulate", "alpha", "Bonjour", "--from", PERSON, stdout=out)
    assert "webhook: 200" in out.getvalue()
    with in_schema(cast.client_a):
        conversation = Conversation.objects.get(channel="sms", visitor_phone=PERSON)
        assert Delivery.objects.filter(conversation=conversation, purpose="agent").count() == 1
