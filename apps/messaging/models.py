"""Outgoing SMS, WhatsApp and e-mail are `apps.integrations.models.Delivery` rows: the outbox is the list of
them (the offline twin's are kept there, nothing sent). The old OutboxMessage table was copied into it."""
