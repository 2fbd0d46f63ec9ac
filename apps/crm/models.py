"""Leads, tickets and callbacks that agents create (client schema)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Lead(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONTACTED = "contacted", _("Contacted")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="leads")
    name = models.CharField(_("name"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    company = models.CharField(_("company"), max_length=120, blank=True)
    need = models.TextField(_("need"), blank=True)
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(max_length=3, blank=True)
    is_decision_maker = models.BooleanField(_("decision maker"), null=True)
    timeline = models.CharField(_("timeline"), max_length=120, blank=True)
    timeline_days = models.PositiveIntegerField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    breakdown = models.JSONField(_("BANT breakdown"), default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")


class Ticket(models.Model):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="tickets")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")


class Callback(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("To call back")
        DONE = "done", _("Done")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="callbacks")
    name = models.CharField(_("name"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32)
    due_at = models.DateTimeField(_("call back at"))
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
