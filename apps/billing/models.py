"""Billing, in the public schema: each client's account with the agency (subscription state, its prices, its
Stripe ids) and its invoices. The usage ledger and the wallet live in the client's own schema (apps/usage)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _

# What a client pays for, by pool: each billable kind of usage draws on one pool (apps/billing/pools.py).
POOLS = ("voice_minutes", "messages", "chat_turns", "llm_tokens")


class BillingAccount(models.Model):
    class Status(models.TextChoices):
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment failed (grace period)")
        SUSPENDED = "suspended", _("Suspended for non-payment")
        CANCELED = "canceled", _("Cancelled")

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="billing",
                                  verbose_name=_("client"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    trial_ends = models.DateTimeField(_("trial ends"), null=True, blank=True)
    grace_until = models.DateTimeField(_("grace period ends"), null=True, blank=True)
    card_on_file = models.BooleanField(_("a card can be charged"), default=False)
    # Rebilling: a price per unit for a pool ({"voice_minutes": "0.30"}), else the agency's cost × (1 + markup),
    # else the plan's overage price.
    prices = models.JSONField(_("prices per unit"), default=dict, blank=True)
    markup_percent = models.DecimalField(_("markup over cost (%)"), max_digits=7, decimal_places=2, null=True,
                                         blank=True)
    spend_cap_eur = models.DecimalField(_("monthly cap on extra usage"), max_digits=10, decimal_places=2, null=True,
                                        blank=True, help_text=_("Empty: no cap while a card can be charged."))
    stopped_at = models.DateTimeField(_("usage stopped"), null=True, blank=True)
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(_("Stripe subscription"), max_length=64, blank=True, db_index=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")

    def __str__(self) -> str:
        return f"{self.client} ({self.status})"

    @property
    def usable(self) -> bool:
        return self.status in {self.Status.TRIALING, self.Status.ACTIVE, self.Status.PAST_DUE}

    def price_for(self, pool: str) -> Decimal | None:
        raw = (self.prices or {}).get(pool)
        return Decimal(str(raw)) if raw not in (None, "") else None


class Invoice(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Due")
        PAID = "paid", _("Paid")
        UNCOLLECTIBLE = "uncollectible", _("Uncollectible")
        VOID = "void", _("Void")

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="invoices",
                               verbose_name=_("client"))
    number = models.CharField(_("number"), max_length=40)
    period = models.DateField(_("month"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    total_cents = models.BigIntegerField(_("total (cents)"), default=0)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    stripe_invoice_id = models.CharField(max_length=64, blank=True, db_index=True)
    hosted_url = models.URLField(_("invoice page"), blank=True, max_length=500)
    created = models.DateTimeField(_("created"), default=dj_timezone.now)

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["client", "number"], name="invoice_unique_number")]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self) -> str:
        return self.number

    @property
    def total(self) -> Decimal:
        return Decimal(self.total_cents) / 100
