"""Sending SMS, WhatsApp and e-mail: queue a Delivery; a Celery task sends it through the client's provider
(apps.integrations), whose offline twin keeps it in the outbox."""

from __future__ import annotations

from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _

from apps.integrations.models import Delivery
from apps.integrations.services import delivery_queue


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None,
                 purpose: str = "agent") -> Delivery:
    """Queue the message and return at once (status `queued`); nothing is sent inline."""
    return delivery_queue(channel=channel, to=to, body=body, subject=subject, conversation=conversation,
                          purpose=purpose)


def booking_confirmation_send(*, appointment: Any, business_name: str, language: str, zone: Any,
                              conversation: Any = None) -> Delivery:
    """Queue the SMS that confirms `appointment` to its customer's phone, in the conversation's language and the
    client's time zone. InvalidInput if the phone cannot take an SMS (nothing queued then)."""
    with translation.override(language):
        start = appointment.start.astimezone(zone)
        body = _("%(business)s: your booking on %(day)s at %(time)s is confirmed, under the name %(name)s. "
                 "Reference: %(reference)s.") % {
            "business": business_name or _("Your booking"), "day": formats.date_format(start, "SHORT_DATE_FORMAT"),
            "time": formats.time_format(start, "TIME_FORMAT"), "name": appointment.customer_name,
            "reference": appointment.reference}
    return message_send(channel="sms", to=appointment.customer_phone, body=body, conversation=conversation,
                        purpose="booking_confirmation")
