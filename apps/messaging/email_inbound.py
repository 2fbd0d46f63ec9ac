"""Inbound e-mail: the "inbound parse" webhook of the client's mail provider (Mailgun's routes, SendGrid's Inbound
Parse) posts what arrives at the client's reply address. Two things come back that way:

- **late bounces** — a delivery status notification (RFC 3464: `multipart/report; report-type=delivery-status`)
  for a message we sent: its `Delivery` (found by the original Message-ID we gave it) becomes *failed* and the
  address *bounced* (a permanent 5.x.x status only; a 4.x.x "delayed" changes nothing);
- **replies** — any other message: handled like an SMS reply (`inbound_receive`, channel "email"): opt-out words,
  "annuler" for a booking notice, else the conversation of that person on e-mail (the inbox shows it; the agent
  answers by e-mail unless a member took it over).

    POST /email/inbound/<client slug>/   form fields, Mailgun's shape: timestamp, token, signature
        (= hex HMAC-SHA256(the client's inbound secret, timestamp + token)), and either `body-mime` (Mailgun's raw
        MIME; SendGrid's "POST the raw, full MIME message" posts it as `email`) or the parsed fields `sender` /
        `from`, `subject`, `stripped-text` / `body-plain` / `text`, `In-Reply-To`.

The secret is per client (`inbound_email_secret`, derived from the platform's SECRET_KEY and the client's schema:
rotating SECRET_KEY rotates it); a wrong or missing signature, a timestamp older than 15 minutes or a token seen
before is refused (403) and nothing is written. Parsed-field posts cannot carry a DSN's machine-readable part: a
late bounce needs the raw MIME option."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.core.errors import InvalidInput, PayloadTooLarge, PermissionDenied
from apps.core.redis import get_redis, platform_key

logger = logging.getLogger(__name__)
MAX_AGE_S = 15 * 60
MAX_MIME = 2 * 1024 * 1024  # below DATA_UPLOAD_MAX_MEMORY_SIZE (a form field)
MAX_TEXT = 4000


def inbound_email_secret(client: Any) -> str:
    """The client's signing secret for its inbound-parse webhook (give it to the mail provider)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"vocalia.email.inbound:{client.schema_name}".encode(),
                    hashlib.sha256).hexdigest()


def signature_check(*, client: Any, timestamp: str, token: str, signature: str, now: float | None = None) -> None:
    """Mailgun's way: hex HMAC-SHA256(secret, timestamp + token); fresh, and each token once."""
    now = time.time() if now is None else now
    if not (timestamp.isdigit() and len(timestamp) <= 12 and token and len(token) <= 200 and signature):
        raise PermissionDenied(_("The request is not signed."))
    expected = hmac.new(inbound_email_secret(client).encode(), (timestamp + token).encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise PermissionDenied(_("The signature does not match."))
    if abs(now - int(timestamp)) > MAX_AGE_S:
        raise PermissionDenied(_("The request is too old."))
    if not get_redis().set(platform_key("email", "inbound", client.pk, token), "1", nx=True, ex=2 * MAX_AGE_S):
        raise PermissionDenied(_("This request was already received."))


@dataclass
class Bounce:
    message_id: str
    recipient: str
    status: str
    diagnostic: str


def _mime(raw: str | bytes) -> EmailMessage:
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    if len(data) > MAX_MIME:
        raise PayloadTooLarge(_("The message is too large."))
    return BytesParser(policy=policy.default).parsebytes(data)  # type: ignore[return-value]


def dsn_read(message: Message) -> Bounce | None:
    """The permanent failure a delivery status notification reports, or None (not a DSN, or only delayed)."""
    if message.get_content_type() != "multipart/report" or \
            (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    recipient = status = diagnostic = original = ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():
                if not isinstance(block, Message):
                    continue
                action = str(block.get("Action", "")).strip().lower()
                if action == "failed" and block.get("Final-Recipient"):
                    recipient = str(block["Final-Recipient"]).split(";", 1)[-1].strip()
                    status = str(block.get("Status", "")).strip()[:16]
                    diagnostic = str(block.get("Diagnostic-Code", "")).split(";", 1)[-1].strip()[:250]
        elif kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                original = original or str(inner.get("Message-ID", ""))
        elif kind == "text/rfc822-headers":
            headers = HeaderParser().parsestr(part.get_content() if hasattr(part, "get_content")
                                              else str(part.get_payload()))
            original = original or str(headers.get("Message-ID", ""))
    if not recipient or not status.startswith("5"):
        return None
    return Bounce(message_id=original.strip()[:200], recipient=recipient[:254], status=status, diagnostic=diagnostic)


def bounce_record(*, bounce: Bounce) -> Any:
    """In the client's schema: the delivery the DSN names (by our Message-ID, else the latest e-mail to that
    address) fails, and the address is bounced (nothing more is sent there; campaigns skip it)."""
    from apps.integrations.models import Delivery
    from apps.integrations.services import delivery_status_update
    from apps.messaging.contacts import contact_bounce_record

    reason = f"{bounce.status} {bounce.diagnostic}".strip()
    with transaction.atomic():
        rows = Delivery.objects.filter(channel="email")
        delivery = rows.filter(provider_message_id=bounce.message_id).first() if bounce.message_id else None
        if delivery is None:
            delivery = rows.filter(to__iexact=bounce.recipient).order_by("-created", "-id").first()
        if delivery is not None and delivery.provider_message_id:
            delivery = delivery_status_update(provider=delivery.provider,
                                              provider_message_id=delivery.provider_message_id, status="failed",
                                              error=_("Bounced: %(reason)s") % {"reason": reason})
        contact_bounce_record(channel="email", address=bounce.recipient, reason=reason)
    return delivery


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    try:
        text = body.get_content() if body is not None else ""
    except (LookupError, ValueError):
        text = ""
    return _first_part(text)


def _first_part(text: str) -> str:
    """The reply without the quoted message below it (lines from "On … wrote:" / "Le … a écrit :" / "> …")."""
    kept = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith(">") or (stripped.endswith(("wrote:", "a écrit :", "a écrit:", "escribió:"))
                                        and len(stripped) < 200):
            break
        kept.append(line)
    return "\n".join(kept).strip()[:MAX_TEXT].replace("\x00", "")


def inbound_email(*, client: Any, fields: dict[str, str]) -> dict[str, Any]:
    """One signed post of the client's inbound-parse webhook: a bounce recorded, or a reply handed to the agent
    (or the member who took the conversation over). Returns what was done."""
    from apps.messaging.inbound import Inbound, inbound_receive

    raw = fields.get("body-mime") or fields.get("email") or ""
    if raw:
        message = _mime(raw)
        bounce = dsn_read(message)
        if bounce is not None:
            with tenant_context(client):
                delivery = bounce_record(bounce=bounce)
            return {"action": "bounce", "delivery": getattr(delivery, "pk", None)}
        sender, subject, text = str(message.get("From", "")), str(message.get("Subject", "")), _text(message)
        if message.get_content_type() == "multipart/report":
            return {"action": "ignored"}  # a delayed-delivery notice, a read receipt
    else:
        sender = fields.get("sender") or fields.get("from") or ""
        subject = fields.get("subject", "")
        text = _first_part(fields.get("stripped-text") or fields.get("body-plain") or fields.get("text") or "")
    address = parseaddr(sender)[1]
    if not address or "@" not in address:
        raise InvalidInput(_("The message names no sender."))
    local = address.split("@", 1)[0].lower()
    if local in {"mailer-daemon", "postmaster"}:
        return {"action": "ignored"}  # a bounce we cannot read (parsed fields): the raw MIME option is needed
    text = text or subject.strip()[:MAX_TEXT]
    with tenant_context(client):
        outcome = inbound_receive(message=Inbound(channel="email", from_=address, to=fields.get("recipient", ""),
                                                  body=text))
    return {"action": outcome.action, "conversation": outcome.conversation_id}


def content_length_check(value: Any) -> int:
    text = str(value or "0").strip()
    length = int(text[:12]) if text.isascii() and text.isdigit() else 0
    if length > MAX_MIME + 256 * 1024:
        raise PayloadTooLarge(_("The message is too large."))
    return length


def inbound_email_webhook(*, slug: str, fields: dict[str, str], length: int = 0) -> dict[str, Any]:
    """The webhook's one service: the client named by the URL (404 for an unknown or suspended one), the signature
    (403), then the message. Values are cleaned (NUL dropped, lone surrogates refused)."""
    from apps.clients.models import Client
    from apps.core.errors import NotFound
    from apps.core.inputs import text_clean

    if length > MAX_MIME + 256 * 1024:
        raise PayloadTooLarge(_("The message is too large."))
    slug = (slug or "")[:63]
    client = Client.objects.filter(slug=slug, status=Client.Status.ACTIVE).first() if slug.isascii() else None
    if client is None:
        raise NotFound(_("Unknown client."))
    fields = {key[:64]: text_clean(str(value), field=key[:64]) for key, value in fields.items()}
    signature_check(client=client, timestamp=fields.get("timestamp", ""), token=fields.get("token", ""),
                    signature=fields.get("signature", ""))
    return inbound_email(client=client, fields=fields)


def inbound_email_setup(client: Any) -> dict[str, str]:
    """What a manager gives the mail provider: the webhook's public URL and its signing key."""
    from apps.telephony.webhooks import public_url

    return {"url": public_url(f"/email/inbound/{client.slug}/"), "secret": inbound_email_secret(client)}
