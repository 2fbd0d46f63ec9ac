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
