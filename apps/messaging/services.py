"""Sending SMS, WhatsApp and e-mail: queue a Delivery; a Celery task sends it through the client's provider
(apps.integrations), whose offline twin keeps it in the outbox."""

from __future__ import annotations

from typing import Any

from apps.billing.pricing import KIND_METRIC
from apps.billing.usage import usage_record, usage_require
from apps.integrations.models import Delivery
from apps.integrations.services import delivery_queue


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None) -> Delivery:
    """Queue the message and return at once (status `queued`); nothing is sent inline. Billed as one `channel`
    unit (sms, whatsapp, email: the plan's messages, then the wallet, then overage); refused at the cap."""
    billed = channel in KIND_METRIC  # an unknown channel is refused by delivery_queue
    if billed:
        usage_require(kind=channel)
    delivery = delivery_queue(channel=channel, to=to, body=body, subject=subject, conversation=conversation)
    if billed:
        usage_record(kind=channel, quantity=1, key=f"delivery:{delivery.pk}")
    return delivery
