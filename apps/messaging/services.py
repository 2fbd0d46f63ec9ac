"""Sending SMS, WhatsApp and e-mail through the configured provider; the built-in twin is the outbox."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.messaging.models import OutboxMessage

PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None) -> OutboxMessage:
    """Record the message, then deliver it: e-mail through Django's mail backend (console by default);
    SMS and WhatsApp stay in the outbox, the built-in twin, until a Twilio account is connected
    (telephony issue)."""
    to = to.strip()
    if channel not in OutboxMessage.Channel.values:
        raise InvalidInput(_("Unknown channel."))
    if channel == OutboxMessage.Channel.EMAIL and not EMAIL_RE.match(to):
        raise InvalidInput(_("Enter a valid e-mail address."))
    if channel != OutboxMessage.Channel.EMAIL and not PHONE_RE.match(to):
        raise InvalidInput(_("Enter a valid phone number."))
    if not body.strip():
        raise InvalidInput(_("The message is empty."))
    message = OutboxMessage.objects.create(channel=channel, to=to, subject=subject[:200], body=body[:4000],
                                           conversation=conversation)
    if channel == OutboxMessage.Channel.EMAIL:
        try:
            send_mail(subject or _("Message from your assistant"), body, settings.DEFAULT_FROM_EMAIL, [to])
        except Exception as exc:  # recorded on the message; the conversation goes on
            message.status, message.error, message.provider = OutboxMessage.Status.FAILED, str(exc)[:500], "email"
        else:
            message.status, message.provider, message.sent_at = OutboxMessage.Status.SENT, "email", timezone.now()
    else:
        message.status, message.provider, message.sent_at = OutboxMessage.Status.SENT, "outbox", timezone.now()
    message.save(update_fields=["status", "provider", "sent_at", "error"])
    return message
