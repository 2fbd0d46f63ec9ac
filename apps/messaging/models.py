"""Messaging (client schema): people on their channels (language, opt-out, WhatsApp's window), the client's
WhatsApp templates and quiet hours, booking notices (confirmations and reminders, one per appointment and kind),
and message campaigns. Outgoing messages themselves are `apps.integrations.models.Delivery` rows."""

from __future__ import annotations

from datetime import time, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CHANNEL_CHOICES = [("sms", _("SMS")), ("whatsapp", _("WhatsApp")), ("email", _("E-mail"))]
CAMPAIGN_CHANNELS = [*CHANNEL_CHOICES, ("call", _("Phone call"))]  # a call campaign's calls are apps/outbound's
WHATSAPP_WINDOW = timedelta(hours=24)


class Contact(models.Model):
    """One person on one channel (an E.164 number for SMS and WhatsApp, an address for e-mail)."""

    channel = models.CharField(_("channel"), max_length=16, choices=CHANNEL_CHOICES)
    address = models.CharField(_("address"), max_length=254)
    name = models.CharField(_("name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    opt_out_word = models.CharField(_("opt-out word"), max_length=40, blank=True)
    opted_in_at = models.DateTimeField(_("opted in again"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_reason = models.CharField(_("bounce"), max_length=300, blank=True)
    last_inbound_at = models.DateTimeField(_("last message from them"), null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)  # a pending offer of new times ("reply 1, 2 or 3")
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "address"], name="messaging_one_contact")]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.channel}:{self.address}"

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None

    def window_open(self, now: timezone.datetime | None = None) -> bool:
        """WhatsApp's customer-service window: 24 hours from the person's last message."""
        now = now or timezone.now()
        return self.last_inbound_at is not None and now - self.last_inbound_at < WHATSAPP_WINDOW


class MessagingSettings(models.Model):
    """One row per client: quiet hours (client's time zone) and how long a conversation stays open for replies."""

    quiet_start = models.TimeField(_("quiet hours from"), default=time(21, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=time(8, 0))
    reopen_hours = models.PositiveSmallIntegerField(_("a reply continues the conversation within (hours)"),
                                                    default=24)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("messaging settings")


class WhatsAppTemplate(models.Model):
    """A template approved by WhatsApp (made in Twilio's Content Template Builder): its content SID and the
    names of its numbered variables, in order ({{1}} = variables[0]…). Used outside the 24-hour window."""

    class Purpose(models.TextChoices):
        CONFIRMED = "confirmed", _("Booking confirmed")
        CHANGED = "changed", _("Booking changed")
        CANCELLED = "cancelled", _("Booking cancelled")
        REMINDER_24H = "reminder_24h", _("Reminder, the day before")
        REMINDER_1H = "reminder_1h", _("Reminder, one hour before")
        CAMPAIGN = "campaign", _("Campaign")

    name = models.CharField(_("name"), max_length=80)
    purpose = models.CharField(_("used for"), max_length=16, choices=Purpose.choices)
    language = models.CharField(_("language"), max_length=8)
    content_sid = models.CharField(_("content SID"), max_length=34)
    variables = models.JSONField(_("variables"), default=list, blank=True)
    preview = models.TextField(_("text (for reference)"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["purpose", "language", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "language"], name="messaging_template_name")]
        verbose_name = _("WhatsApp template")
        verbose_name_plural = _("WhatsApp templates")

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class Notice(models.Model):
    """A message about one appointment: confirmed / changed / cancelled (due at once) or a reminder. The unique
    (appointment, kind) pair is the idempotency key: a sweep claims a notice by moving it out of `scheduled` in
    one UPDATE, so two sweeps or two workers never queue it twice."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", _("Booking confirmed")
        CHANGED = "changed", _("Booking changed")
        CANCELLED = "cancelled", _("Booking cancelled")
        REMINDER_24H = "reminder_24h", _("Reminder, the day before")
        REMINDER_1H = "reminder_1h", _("Reminder, one hour before")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        QUEUED = "queued", _("Queued")
        SKIPPED = "skipped", _("Skipped")

    appointment = models.ForeignKey("bookings.Appointment", on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=CHANNEL_CHOICES)
    to = models.CharField(_("to"), max_length=254)
    language = models.CharField(_("language"), max_length=8)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    delivery = models.ForeignKey("integrations.Delivery", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="notices")
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["appointment", "kind"], name="messaging_one_notice")]
        indexes = [models.Index(fields=["due_at"], name="messaging_notice_due", condition=Q(status="scheduled"))]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return f"{self.kind} #{self.appointment_id} @ {self.due_at}"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        DONE = "done", _("Done")

    name = models.CharField(_("name"), max_length=120)
    channel = models.CharField(_("channel"), max_length=16, choices=CAMPAIGN_CHANNELS)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"), blank=True)  # {name} is replaced by each contact's name
    template = models.ForeignKey(WhatsAppTemplate, on_delete=models.PROTECT, null=True, blank=True,
                                 verbose_name=_("WhatsApp template"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    start_at = models.DateTimeField(_("start"), default=timezone.now)
    max_attempts = models.PositiveSmallIntegerField(_("tries per contact"), default=3)
    retry_minutes = models.PositiveIntegerField(_("minutes between tries"), default=30)
    batch_size = models.PositiveIntegerField(_("messages per minute"), default=60)
    # Calls: `body` is why the agent calls (it tells the person); at most `concurrency` calls at once (and never
    # more than the client's free lines, shared with inbound calls); `consent_source` is the member's word on how
    # the imported people agreed to be called by an AI voice (recorded per number at import).
    concurrency = models.PositiveSmallIntegerField(_("calls at once"), default=2)
    consent_source = models.CharField(_("how these people agreed to be called"), max_length=200, blank=True)
    rejected = models.JSONField(_("lines not imported"), default=list, blank=True)  # [[line, why], …]
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        OPTED_OUT = "opted_out", _("Opted out")
        # Call campaigns
        CALLING = "calling", _("Calling")
        ANSWERED = "answered", _("Answered")
        VOICEMAIL = "voicemail", _("Message left")
        NO_ANSWER = "no_answer", _("No answer")
        REFUSED = "refused", _("Not allowed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    address = models.CharField(_("address"), max_length=254)
    name = models.CharField(_("name"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    next_at = models.DateTimeField(null=True, blank=True)
    delivery = models.ForeignKey("integrations.Delivery", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    last_error = models.CharField(_("error"), max_length=500, blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "address"], name="messaging_one_recipient")]
        indexes = [models.Index(fields=["campaign", "status", "next_at"], name="messaging_recipient_next")]
        verbose_name = _("campaign contact")
        verbose_name_plural = _("campaign contacts")
