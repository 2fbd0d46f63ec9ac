"""The widget's settings and what it saw, per client, in the public schema (read before any schema
is chosen: the allow-list is checked on every widget request)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WidgetSettings(models.Model):
    class Position(models.TextChoices):
        END = "end", _("Bottom corner, reading end (right in LTR)")
        START = "start", _("Bottom corner, reading start (left in LTR)")

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="widget")
    allowed_origins = models.JSONField(_("allowed domains"), default=list, blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#4f46e5")
    position = models.CharField(_("position"), max_length=8, choices=Position.choices, default=Position.END)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    greeting = models.JSONField(_("greeting per language"), default=dict, blank=True)
    launcher_text = models.JSONField(_("launcher text per language"), default=dict, blank=True)
    avatar_url = models.URLField(_("avatar"), blank=True)
    agent_id = models.PositiveIntegerField(_("agent"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("widget settings")
        verbose_name_plural = _("widget settings")

    def __str__(self) -> str:
        return f"widget of {self.client}"


class WidgetSighting(models.Model):
    """The widget loaded on a page of this origin (the install page's "seen on … 2 minutes ago")."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="widget_sightings")
    origin = models.CharField(max_length=300)
    page_url = models.URLField(max_length=1000, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    count = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "origin"], name="widget_sighting_unique_origin")]
        ordering = ["-last_seen"]


class WidgetRejection(models.Model):
    """A widget request refused, and why (the install page's troubleshooting list)."""

    class Reason(models.TextChoices):
        ORIGIN_NOT_ALLOWED = "origin_not_allowed", _("The website is not on the list of allowed domains")
        NO_ALLOWED_ORIGINS = "no_allowed_origins", _("No allowed domain is set up yet")
        KEY_REVOKED = "key_revoked", _("The widget key in the snippet was revoked or replaced")
        RATE_LIMITED = "rate_limited", _("Too many requests for the plan")
        QUOTA_EXCEEDED = "quota_exceeded", _("The monthly conversation quota is used up")
        CLIENT_UNAVAILABLE = "client_unavailable", _("The account is suspended")

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="widget_rejections")
    reason = models.CharField(max_length=32, choices=Reason.choices)
    origin = models.CharField(max_length=300, blank=True)
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "reason", "origin"],
                                               name="widget_rejection_unique")]
        ordering = ["-last_seen"]
