"""Phone calls and each agent's phone settings (client schema).

A call is a record of its own next to its conversation (the transcript): status timeline, duration, mode,
languages, recording, hand-over and each turn's latency belong to the call, the words to the conversation.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    RELAY = "relay", _("ConversationRelay (Twilio's speech)")
    MEDIA = "media", _("Media Streams (our speech)")
    GATHER = "gather", _("Speech gathering (no socket)")


class PhoneSettings(models.Model):
    """How an agent answers the phone. An agent without a row answers with the defaults."""

    class Transfer(models.TextChoices):
        COLD = "cold", _("Cold (the call is put through)")
        WARM = "warm", _("Warm (the person first hears a summary)")

    agent = models.OneToOneField("agents.Agent", on_delete=models.CASCADE, related_name="phone_settings")
    mode = models.CharField(_("answering mode"), max_length=8, choices=Mode.choices, default=Mode.RELAY)
    voices = models.JSONField(_("voice per language"), default=dict, blank=True)  # {"fr": "fr-FR-Neural2-A"}
    consent_notice = models.BooleanField(_("say a recording notice first"), default=True)
    recording = models.BooleanField(_("record calls"), default=False)
    transfer_mode = models.CharField(_("transfer"), max_length=8, choices=Transfer.choices, default=Transfer.COLD)
    handover_number = models.CharField(_("hand-over number"), max_length=16, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("phone settings")
        verbose_name_plural = _("phone settings")


class Call(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Incoming")
        OUTBOUND = "outbound", _("Outgoing")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RINGING = "ringing", _("Ringing")
        IN_PROGRESS = "in-progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no-answer", _("No answer")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    ENDED_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")

    call_sid = models.CharField(_("call id"), max_length=64, unique=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="calls", verbose_name=_("agent"))
    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="call")
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices,
                                 default=Direction.INBOUND)
    from_number = models.CharField(_("from"), max_length=32, blank=True)
    to_number = models.CharField(_("to"), max_length=32, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.RELAY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RINGING,
                              db_index=True)
    timeline = models.JSONField(default=list, blank=True)  # [{"event", "at", "detail"}]
    started = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    duration_s = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    recording_status = models.CharField(max_length=16, blank=True)
    recording_duration_s = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    handover = models.JSONField(default=dict, blank=True)  # {"mode", "to", "status", "result"}
    turns = models.JSONField(default=list, blank=True)  # [{"recognition_ms", "engine_ms", "speech_ms"}]
    end_reason = models.CharField(_("end"), max_length=32, blank=True)
    minutes_counted = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started", "-id"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self) -> str:
        return f"{self.call_sid} {self.from_number} → {self.to_number}"

    @property
    def is_over(self) -> bool:
        return self.ended_at is not None

    @property
    def outcome_label(self) -> str:
        """The outcome as the member reads it (the conversation's outcome names), the code if unknown."""
        from apps.conversations.models import Conversation

        return str(dict(Conversation.Outcome.choices).get(self.outcome, self.outcome))

    @property
    def handover_label(self) -> str:
        """The hand-over's mode and state as the member reads them (the codes stay in the data)."""
        from apps.calls.selectors import DETAIL_LABELS

        handover = self.handover if isinstance(self.handover, dict) else {}
        return " · ".join(str(DETAIL_LABELS.get(str(handover.get(key) or ""), handover.get(key)))
                          for key in ("mode", "status") if handover.get(key))
