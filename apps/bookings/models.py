"""Appointments (client schema). Two bookings can never overlap for one agent: PostgreSQL refuses it."""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only used inside the constraint expression


class Appointment(models.Model):
    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="appointments")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="appointments")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # end + the agent's buffer: the range PostgreSQL keeps free of any other booking.
    blocked_until = models.DateTimeField()
    customer_name = models.CharField(_("name"), max_length=120)
    customer_phone = models.CharField(_("phone"), max_length=32, blank=True)
    customer_email = models.EmailField(_("e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.BOOKED)
    reference = models.CharField(_("reference"), max_length=12, unique=True)
    # How the person wants its confirmations and reminders ("" : the conversation's channel, else e-mail, else SMS),
    # and in which language ("" : the conversation's, else the client's).
    notify_channel = models.CharField(_("notify by"), max_length=16, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed by the person"), null=True, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["start"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            ExclusionConstraint(
                name="appointment_no_overlap",
                expressions=[("agent", RangeOperators.EQUAL),
                             (TsTzRange("start", "blocked_until"), RangeOperators.OVERLAPS)],
                condition=Q(status="booked"),
            ),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="appointment_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.start:%Y-%m-%d %H:%M}"
