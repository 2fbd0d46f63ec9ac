"""Platform-level rows (public schema)."""

from __future__ import annotations

from django.db import models
from encrypted_model_fields.fields import EncryptedCharField

CANARY_PLAINTEXT = "vocalia-encryption-canary"


class EncryptionCanary(models.Model):
    """One row encrypted with FIELD_ENCRYPTION_KEY. django-encrypted-model-fields returns the
    ciphertext instead of raising when the key is wrong; /readyz reads this row to catch that."""

    value = EncryptedCharField(max_length=100)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "encryption canary"


class OutboxDue(models.Model):
    """The webhook outbox's work index (public schema): one row per client schema that may hold deliveries
    due at or after `next_due`. Written in the same transaction as the deliveries (apps/events/outbox.py), so
    the sweeper finds work without walking every schema, and loses none when Redis is flushed."""

    schema_name = models.CharField(max_length=63, unique=True)
    next_due = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "outbox due"
