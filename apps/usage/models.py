"""Usage counters, in each client's own schema: one row per metric and month."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class UsageCounter(models.Model):
    class Metric(models.TextChoices):
        CONVERSATIONS = "conversations", _("Conversations")
        VOICE_MINUTES = "voice_minutes", _("Voice minutes")
        MESSAGES = "messages", _("Messages")
        API_REQUESTS = "api_requests", _("API requests")

    metric = models.CharField(_("metric"), max_length=32, choices=Metric.choices)
    period = models.DateField(_("month"), help_text=_("First day of the month."))
    value = models.BigIntegerField(_("value"), default=0)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["metric", "period"], name="usage_unique_metric_period")]
        ordering = ["-period", "metric"]
        verbose_name = _("usage counter")
        verbose_name_plural = _("usage counters")

    def __str__(self) -> str:
        return f"{self.metric} {self.period:%Y-%m}: {self.value}"
