"""Usage, in each client's own schema: the ledger (one row per billable unit, idempotent by key), the totals per
metric and month (the counters, updated in the same transaction), and the prepaid wallet.

Amounts are integer micros of the client's currency (1 € = 1,000,000): a token costs fractions of a cent."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UsageCounter(models.Model):
    class Metric(models.TextChoices):
        CONVERSATIONS = "conversations", _("Conversations")
        VOICE_MINUTES = "voice_minutes", _("Voice minutes")
        MESSAGES = "messages", _("Messages")
        API_REQUESTS = "api_requests", _("API requests")
        CHAT_TURNS = "chat_turns", _("Chat replies")
        LLM_TOKENS = "llm_tokens", _("Language-model tokens")

    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    period = models.DateField(_("month"), help_text=_("First day of the month."))
    value = models.BigIntegerField(_("value"), default=0)
    # How `value` was paid for (ledger rows only): in the plan, from the wallet, billed as overage.
    included = models.BigIntegerField(default=0, db_default=0)
    wallet = models.BigIntegerField(default=0, db_default=0)
    overage = models.BigIntegerField(default=0, db_default=0)
    wallet_micros = models.BigIntegerField(default=0, db_default=0)
    overage_micros = models.BigIntegerField(default=0, db_default=0)
    cost_micros = models.BigIntegerField(default=0, db_default=0)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "period"], name="usage_unique_metric_period")]
        ordering = ["-period", "metric"]
        verbose_name = _("usage counter")
        verbose_name_plural = _("usage counters")

    def __str__(self) -> str:
        return f"{self.metric} {self.period:%Y-%m}: {self.value}"


class UsageRecord(models.Model):
    """One billable unit (or a batch of one kind: a call's minutes) — written where the usage happens."""

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)  # voice_minute, call_minute, sms, whatsapp, email, chat_turn, …
    metric = models.CharField(max_length=32)  # the counter (pool) it draws on
    quantity = models.BigIntegerField()
    occurred = models.DateTimeField(default=timezone.now)
    period = models.DateField()
    included = models.BigIntegerField(default=0)
    wallet = models.BigIntegerField(default=0)
    overage = models.BigIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=16, decimal_places=9, default=0)
    unit_cost = models.DecimalField(max_digits=16, decimal_places=9, default=0)
    wallet_micros = models.BigIntegerField(default=0)
    overage_micros = models.BigIntegerField(default=0)
    cost_micros = models.BigIntegerField(default=0)
    # Metering: overage is sent to the billing provider (Stripe meter events, identifier = key) by a Celery task.
    metered_at = models.DateTimeField(null=True, blank=True)
    meter_attempts = models.PositiveSmallIntegerField(default=0)
    meter_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred"]
        indexes = [
            models.Index(fields=["period", "metric"], name="usage_record_period_metric"),
            models.Index(fields=["occurred"], name="usage_record_pending_meter",
                         condition=models.Q(metered_at__isnull=True, overage_micros__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ×{self.quantity} ({self.key})"


class Wallet(models.Model):
    """The prepaid balance (one row): minute packs credit it, usage beyond the plan draws on it."""

    balance_micros = models.BigIntegerField(default=0)
    auto_recharge = models.BooleanField(default=False)
    threshold_minutes = models.PositiveIntegerField(default=20)
    pack_minutes = models.PositiveIntegerField(default=100)
    recharge_failed_at = models.DateTimeField(null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)


class WalletEntry(models.Model):
    class Kind(models.TextChoices):
        PACK = "pack", _("Minute pack")
        RECHARGE = "recharge", _("Automatic recharge")
        TRIAL = "trial", _("Trial credit")
        ADJUSTMENT = "adjustment", _("Adjustment")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_micros = models.BigIntegerField()
    minutes = models.PositiveIntegerField(default=0)
    charge_id = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created"]
