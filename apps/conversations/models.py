"""Conversations and their messages, on every channel (client schema). Written as they happen."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    class Channel(models.TextChoices):
        WIDGET_TEXT = "widget_text", _("Website chat")
        WIDGET_VOICE = "widget_voice", _("Website voice")
        PHONE = "phone", _("Phone")
        SMS = "sms", _("SMS")
        WHATSAPP = "whatsapp", _("WhatsApp")
        EMAIL = "email", _("E-mail")
        DASHBOARD = "dashboard", _("Dashboard test")

    class Outcome(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        BOOKED = "booked", _("Appointment booked")
        LEAD = "lead", _("Lead qualified")
        TICKET = "ticket", _("Ticket opened")
        CALLBACK = "callback", _("Callback scheduled")
        HANDOVER = "handover", _("Handed over")
        ENDED = "ended", _("Ended")

    class Status(models.TextChoices):
        """The inbox's status (Chatwoot's): pending while the agent handles it alone, open when a person is
        needed or answering, resolved when done. A visitor's new message reopens a resolved conversation."""

        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")

    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="conversations",
                              verbose_name=_("agent"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=8)
    visitor_id = models.CharField(_("visitor"), max_length=120, blank=True)
    visitor_name = models.CharField(_("name"), max_length=120, blank=True)
    visitor_phone = models.CharField(_("phone"), max_length=32, blank=True)
    visitor_email = models.EmailField(_("e-mail"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.OPEN)
    state = models.JSONField(default=dict, blank=True)  # the dialogue state of the built-in engine
    metadata = models.JSONField(default=dict, blank=True)  # page, UTM, call sid, provider fallbacks…
    started = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    last_activity = models.DateTimeField(_("last activity"), default=timezone.now)
    ended = models.DateTimeField(_("ended"), null=True, blank=True)
    # The inbox. Users live in the public schema: no database constraint across schemas, and deleting a user
    # leaves the id (DO_NOTHING) rather than reaching into every client's schema.
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                                 null=True, blank=True, related_name="+", verbose_name=_("assigned to"))
    taken_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                                      null=True, blank=True, related_name="+", verbose_name=_("answered by"))
    taken_over_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started", "-id"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["-last_activity", "-id"], name="conversation_inbox_order")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.channel} {self.language}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("Visitor")
        ASSISTANT = "assistant", _("Agent")
        TOOL = "tool", _("Tool")
        EVENT = "event", _("Event")
        MEMBER = "member", _("Team member")  # a person of the client's team, answering from the inbox
        NOTICE = "notice", _("Notice")  # told to the visitor: a person joined or left

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField(blank=True)
    tool_name = models.CharField(max_length=64, blank=True)
    tool_call_id = models.CharField(max_length=64, blank=True)
    tool_args = models.JSONField(null=True, blank=True)
    tool_result = models.JSONField(null=True, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    complete = models.BooleanField(default=True)  # False while a reply is being streamed
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                               null=True, blank=True, related_name="+")  # the member, for role "member"
    # An agent's reply: the passages it could quote ("sources") and the one it answered from ("source"),
    # each {"document", "document_id", "chunk_id"} (+ "text" for the source), for the dashboard.
    metadata = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation_id", "id"]
        indexes = [models.Index(fields=["conversation", "role", "id"], name="message_conversation_role")]


class Note(models.Model):
    """A private note of the team on a conversation: never shown to the visitor, never given to the agent."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                               null=True, related_name="+")
    text = models.TextField(_("note"))
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation_id", "id"]


class ConversationRead(models.Model):
    """How far a member has read a conversation: the last message id they saw (the unread counts)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="+")
    last_message_id = models.BigIntegerField(default=0)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="conversation_read_once")]
