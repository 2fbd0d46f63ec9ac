"""Outbound calls (client schema): the calls the agent places — callbacks the agent promised, calls a member
starts from the dashboard — and the rules that gate them: the do-not-call list, the consent each person gave to
be called by an AI voice, and the client's calling hours.

A call's conversation and record (transcript, recording, timeline) are the phone's (apps.calls); this row is
the *intent* to call and its attempts: when, why, how many tries, what answered."""

from __future__ import annotations

from datetime import time

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

WEEKDAYS_DEFAULT = [0, 1, 2, 3, 4, 5]  # Monday … Saturday (Python's weekday numbers)


class CallingPolicy(models.Model):
    """One row per client: when the agent may place calls (in the client's time zone), how often it retries."""

    start = models.TimeField(_("calls from"), default=time(9, 0))
    end = models.TimeField(_("calls until"), default=time(20, 0))
    weekdays = models.JSONField(_("days"), default=list, blank=True)  # [] means WEEKDAYS_DEFAULT
    max_attempts = models.PositiveSmallIntegerField(_("attempts per call"), default=3)
    retry_minutes = models.PositiveSmallIntegerField(_("minutes between attempts"), default=60)
    voicemail = models.BooleanField(_("leave a voicemail message"), default=True)
    callbacks_auto = models.BooleanField(_("place the agent's callbacks automatically"), default=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calling policy")

    def days(self) -> list[int]:
        return [int(day) for day in (self.weekdays or WEEKDAYS_DEFAULT) if str(day).isdigit() and 0 <= int(day) <= 6]


class DoNotCall(models.Model):
    """A number the agent never calls (asked by the person, added by a member, or from an opt-out)."""

    class Source(models.TextChoices):
        MEMBER = "member", _("Added by a member")
        REQUEST = "request", _("Asked by the person")
        API = "api", _("Added through the API")

    phone = models.CharField(_("phone"), max_length=16, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MEMBER)
    created = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")

    def __str__(self) -> str:
        return self.phone


class CallConsent(models.Model):
    """A person's prior consent to be called by the AI voice (required before any outbound call): what they
    agreed to, when and where (a conversation, a form, a member's word), and when it was withdrawn."""

    phone = models.CharField(_("phone"), max_length=16, db_index=True)
    source = models.CharField(_("given"), max_length=200)
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="call_consents")
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-given_at"]
        indexes = [models.Index(fields=["phone"], name="outbound_consent_live", condition=Q(withdrawn_at=None))]
        verbose_name = _("consent to be called")
        verbose_name_plural = _("consents to be called")

    def __str__(self) -> str:
        return f"{self.phone} ({self.source})"


class OutboundCall(models.Model):
    class Purpose(models.TextChoices):
        CALLBACK = "callback", _("Callback")
        MANUAL = "manual", _("Call from the dashboard")
        CAMPAIGN = "campaign", _("Campaign")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DIALING = "dialing", _("Dialing")
        ANSWERED = "answered", _("Answered")
        VOICEMAIL = "voicemail", _("Voicemail left")
        DONE = "done", _("Done")
        FAILED = "failed", _("Not reached")
        BLOCKED = "blocked", _("Not allowed")
        CANCELLED = "cancelled", _("Cancelled")

    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    to = models.CharField(_("to"), max_length=16)
    name = models.CharField(_("name"), max_length=120, blank=True)
    reason = models.TextField(_("why the agent calls"), blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="outbound_calls")
    callback = models.OneToOneField("crm.Callback", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="outbound_call")
    campaign_recipient = models.OneToOneField("messaging.CampaignRecipient", on_delete=models.SET_NULL, null=True,
                                              blank=True, related_name="outbound_call")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    from_number = models.CharField(_("from"), max_length=16, blank=True)
    provider_call_id = models.CharField(_("provider's call id"), max_length=64, blank=True, db_index=True)
    answered_by = models.CharField(_("answered by"), max_length=24, blank=True)  # Twilio's AnsweredBy
    history = models.JSONField(_("attempts"), default=list, blank=True)  # [{"at", "status", "detail"}]
    requested_by = models.CharField(_("requested by"), max_length=254, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["next_attempt_at"], name="outbound_due",
                                condition=Q(status="scheduled"))]
        verbose_name = _("outbound call")
        verbose_name_plural = _("outbound calls")

    def __str__(self) -> str:
        return f"{self.purpose} → {self.to}"
