"""Domain events and the outbound webhooks that carry them (client schema).

An `Event` is written in the same transaction as the change it describes; one `WebhookDelivery` per subscribed
endpoint is written with it (the transactional outbox), and each try at sending it is a `DeliveryAttempt`.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField


def event_public_id() -> str:
    """The id the receiver sees as `webhook-id` (and the API as the event's id): stable across retries."""
    return "msg_" + secrets.token_urlsafe(18).replace("-", "a").replace("_", "b")


class Event(models.Model):
    public_id = models.CharField(max_length=32, unique=True, default=event_public_id)
    type = models.CharField(_("type"), max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField(default=dict)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.type} {self.public_id}"


def subscribed(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint with these chosen types ([] = every type) receives `event_type`."""
    return not event_types or event_type in event_types


class WebhookEndpoint(models.Model):
    class DisabledReason(models.TextChoices):
        NONE = "", _("Enabled")
        BY_USER = "user", _("Disabled by you")
        GONE = "gone", _("The receiver answered 410 Gone")
        FAILING = "failing", _("Failing for 5 days")

    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list, blank=True)  # [] = every type
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(max_length=16, choices=DisabledReason.choices, blank=True, default="")
    secret_encrypted = EncryptedTextField()
    previous_secret_encrypted = EncryptedTextField(blank=True, default="")
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    rate_per_second = models.PositiveIntegerField(_("deliveries per second at most"), default=50)
    failing_since = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return subscribed(self.event_types, event_type)

    def secrets_in_force(self, now: object = None) -> list[str]:
        """The secrets every request is signed with: the current one, and the previous one for 24 h after a
        rotation (the receiver accepts any signature that matches)."""
        now = now or timezone.now()
        found = [self.secret_encrypted]
        if self.previous_secret_encrypted and self.previous_secret_until and self.previous_secret_until > now:
            found.append(self.previous_secret_encrypted)
        return found


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row. `pending` until a 2xx (`succeeded`) or until the schedule is
    spent, the endpoint disabled or gone (`failed`). A worker holds `lease_until` while it sends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    retry_step = models.PositiveSmallIntegerField(default=0)  # where in the schedule (a replay starts it again)
    next_attempt_at = models.DateTimeField(_("next try"), null=True, blank=True, default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    # A task for it is queued (on commit, or by the sweeper): the sweeper leaves it alone until then.
    queued_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                                name="events_delivery_due")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP request to the receiver and its answer, for the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    started = models.DateTimeField(default=timezone.now)
    request_url = models.CharField(max_length=1000)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started", "-id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    @property
    def ok(self) -> bool:
        return self.response_status is not None and 200 <= self.response_status < 300
