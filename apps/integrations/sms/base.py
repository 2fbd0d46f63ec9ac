"""SMS: `send(OutboundMessage) -> SendResult` (apps.integrations.outbound). The twin is `outbox.OutboxSms`.

A real provider (Twilio's Messages API comes with the telephony issue) also reports delivery later: its
callback view calls apps.integrations.services.delivery_status_update(provider=..., provider_message_id=...).
"""

from apps.integrations.outbound import MessageSender as SmsSender

__all__ = ["SmsSender"]
