"""Agents, in each client's schema. A client can have several (e.g. sales and support)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField

LANGUAGE_CODES = ["fr", "en", "es", "ar", "ary"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def default_hours() -> dict[str, list[list[str]]]:
    week = {day: [["09:00", "12:30"], ["14:00", "18:00"]] for day in WEEKDAYS[:5]}
    week.update({"sat": [["09:00", "12:30"]], "sun": []})
    return week


class Agent(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")

    class Provider(models.TextChoices):
        BUILTIN = "builtin", _("Built-in (no key, works offline)")
        OPENAI_COMPATIBLE = "openai_compatible", _("OpenAI-compatible (OpenAI, Grok, Groq, Mistral, vLLM, Ollama)")
        ANTHROPIC = "anthropic", _("Anthropic")

    name = models.CharField(_("name"), max_length=80)
    sector = models.CharField(_("sector"), max_length=40, default="general")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    languages = models.JSONField(_("languages"), default=list)
    default_language = models.CharField(_("default language"), max_length=8, default="fr")
    # Per language: {"fr": {"instructions": str, "greeting": str, "closing": str}, ...}
    texts = models.JSONField(_("texts per language"), default=dict)
    # Per language: {"fr": {"voice": str, "style": str, "pace": str}, ...}
    voices = models.JSONField(_("voice per language"), default=dict, blank=True)
    # The business the agent speaks for: name, services, address, phone, website, description.
    business = models.JSONField(_("business information"), default=dict, blank=True)
    tools = models.JSONField(_("enabled tools"), default=list)
    provider = models.CharField(_("provider"), max_length=32, choices=Provider.choices, default=Provider.BUILTIN)
    model = models.CharField(_("model"), max_length=100, blank=True)
    base_url = models.URLField(_("API base URL"), blank=True)
    api_key = EncryptedCharField(_("API key (your own, optional)"), max_length=300, blank=True, default="")
    temperature = models.FloatField(_("temperature"), default=0.3)
    business_hours = models.JSONField(_("business hours"), default=default_hours)
    appointment_minutes = models.PositiveSmallIntegerField(_("appointment length (minutes)"), default=30)
    buffer_minutes = models.PositiveSmallIntegerField(_("buffer between appointments (minutes)"), default=10)
    handover_phone = models.CharField(_("hand-over phone"), max_length=32, blank=True)
    handover_email = models.EmailField(_("hand-over e-mail"), blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return self.name

    def text(self, language: str, key: str) -> str:
        for code in (language, self.default_language, *self.languages):
            value = (self.texts.get(code) or {}).get(key)
            if value:
                return str(value)
        return ""

    def placeholders(self, language: str | None = None) -> dict[str, Any]:
        """The business's facts for the texts' {placeholders}. With `language`, {hours} is the agent's weekly
        hours written in that language (not the hours as typed, in whichever language they were typed)."""
        business = self.business or {}
        values = {key: business.get(key, "") for key in ("business_name", "services", "hours", "address", "phone",
                                                         "website")}
        if language and any(self.business_hours.get(day) for day in WEEKDAYS):
            from django.utils import translation

            from apps.core.dates import week_hours

            with translation.override(language):
                values["hours"] = week_hours(self.business_hours)
        return values
