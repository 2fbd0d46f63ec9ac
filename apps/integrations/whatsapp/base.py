"""WhatsApp: `send(OutboundMessage) -> SendResult` (apps.integrations.outbound). The twin is `outbox.OutboxWhatsApp`.

A real provider also reports delivery later: its
callback view calls apps.integrations.services.delivery_status_update(provider=..., provider_message_id=...).
"""

from apps.integrations.outbound import MessageSender as WhatsAppSender

__all__ = ["WhatsAppSender"]
