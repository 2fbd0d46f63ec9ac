"""A client's connected accounts and its outbound deliveries (client schema)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField

from apps.integrations.crypto import credentials_load

KIND_LABELS = {
    "llm": _("Language model"),
    "stt": _("Speech recognition"),
    "tts": _("Voice"),
    "sms": _("SMS"),
    "whatsapp": _("WhatsApp"),
    "email": _("E-mail"),
    "telephony": _("Telephony"),
    "billing": _("Billing"),
}


class ConnectedAccount(models.Model):
    """The client's own account with a provider. Credentials are a JSON object encrypted at rest; a value
    the platform must find accounts by (a phone number, an account SID) is also kept as an HMAC in
    `lookup_hash`, since an encrypted column cannot be filtered on."""

    kind = models.CharField(_("kind"), max_length=16, choices=list(KIND_LABELS.items()))
    provider = models.CharField(_("provider"), max_length=32)
    credentials_encrypted = EncryptedTextField(_("credentials"), blank=True, default="")
    lookup_hash = models.CharField(max_length=64, blank=True, db_index=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["kind", "provider"]
        constraints = [models.UniqueConstraint(fields=["kind", "provider"], name="integrations_one_account")]
        verbose_name = _("connected account")
        verbose_name_plural = _("connected accounts")

    def __str__(self) -> str:
        return f"{self.kind}:{self.provider}"

    @property
    def credentials(self) -> dict[str, Any]:
        return credentials_load(self.credentials_encrypted)


class Delivery(models.Model):
    """One outbound message and what became of it. Created queued by a service; sent by a Celery task."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    # WhatsApp outside the 24-hour window: an approved template (content SID) and its variables.
    content_sid = models.CharField(_("template"), max_length=34, blank=True)
    content_variables = models.JSONField(null=True, blank=True)
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="deliveries")
    purpose = models.CharField(_("purpose"), max_length=32, blank=True)  # "agent", "test", …
    provider = models.CharField(_("sent by"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("error"), blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} → {self.to} ({self.status})"

    @property
    def error(self) -> str:
        return self.last_error

    @property
    def kept_in_outbox(self) -> bool:
        """Handled by the offline twin: nothing left the platform."""
        return self.provider == "outbox"
