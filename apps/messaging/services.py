"""Sending SMS, WhatsApp and e-mail: queue a Delivery; a Celery task sends it through the client's provider
(apps.integrations), whose offline twin keeps it in the outbox."""

from __future__ import annotations

from typing import Any

from apps.integrations.models import Delivery
from apps.integrations.services import delivery_queue


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None) -> Delivery:
    """Queue the message and return at once (status `queued`); nothing is sent inline."""
    return delivery_queue(channel=channel, to=to, body=body, subject=subject, conversation=conversation)
