"""Sending SMS, WhatsApp and e-mail: queue a Delivery; a Celery task sends it through the client's provider
(apps.integrations), whose offline twin keeps it in the outbox. Through `sending.person_message_send`, so an
opted-out person gets nothing and WhatsApp's 24-hour rule holds."""

from __future__ import annotations

from typing import Any

from apps.billing.pricing import KIND_METRIC
from apps.billing.usage import usage_record, usage_require
from apps.integrations.models import Delivery
from apps.messaging.sending import person_message_send


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None,
                 purpose: str = "agent") -> Delivery:
    """Queue the message and return at once (status `queued`); nothing is sent inline. MessageRefused (an
    InvalidInput) for an opted-out or bounced address, or WhatsApp outside the window. Billed as one `channel`
    unit (sms, whatsapp, email: the plan's messages, then the wallet, then overage); refused at the cap."""
    from apps.integrations.messages import address_check
    from apps.messaging.contacts import address_normalise

    address_check(channel=channel, to=to)
    address_normalise(channel=channel, address=to)
    billed = channel in KIND_METRIC
    if billed:
        usage_require(kind=channel)
    delivery = person_message_send(channel=channel, to=to, body=body, subject=subject, purpose=purpose,
                                   conversation=conversation, language=getattr(conversation, "language", "") or "")
    if billed:
        usage_record(kind=channel, quantity=1, key=f"delivery:{delivery.pk}")
    return delivery
