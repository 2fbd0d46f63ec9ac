"""What the message kinds (sms, whatsapp, email) share: a message out, the provider's receipt, the twin.

Senders are synchronous: they run in a Celery task (apps.integrations.tasks), never in a request or a socket.
"""

from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, Protocol

from apps.integrations.base import ProviderBase


@dataclass(frozen=True)
class OutboundMessage:
    to: str
    body: str
    subject: str = ""
    reference: str = ""  # our Delivery's id: providers that accept an idempotency key or a tag get it
    # A WhatsApp template (outside the 24-hour window): its content SID and variables {"1": "…", "2": "…"}.
    content_sid: str = ""
    content_variables: dict[str, str] | None = None


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str = "sent"  # "sent": the provider accepted it; "delivered" only when the provider knows at once


class MessageSender(Protocol):
    name: str

    def send(self, message: OutboundMessage) -> SendResult:
        """Hand the message to the provider; raise ProviderError(message, permanent=...) on any failure."""
        ...


class OutboxTwin(ProviderBase):
    """The offline twin of every message kind: nothing leaves the machine. The Delivery row stays in the
    client's outbox (the dashboard's Outbox page); the process keeps the last messages in `sent` for tests."""

    name = "outbox"
    offline = True
    sent: ClassVar[deque[OutboundMessage]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.sent = deque(maxlen=100)

    def send(self, message: OutboundMessage) -> SendResult:
        type(self).sent.append(message)
        return SendResult(provider_message_id=f"outbox-{uuid.uuid4().hex}")
