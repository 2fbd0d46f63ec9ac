"""Reads on conversations and their messages, in the active client's schema."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.conversations.models import Conversation, Message
from apps.core.errors import NotFound


def conversations_list(*, agent_id: int | None = None, channel: str = "", outcome: str = "") -> QuerySet[Conversation]:
    rows = Conversation.objects.all()
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    if channel:
        rows = rows.filter(channel=channel)
    if outcome:
        rows = rows.filter(outcome=outcome)
    return rows


def conversation_get(*, conversation_id: int) -> Conversation:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(_("No conversation with this id."))
    return conversation


def messages_list(*, conversation_id: int, role: str = "") -> QuerySet[Message]:
    """The messages of one conversation, oldest first; NotFound if the conversation is not the client's."""
    if not Conversation.objects.filter(pk=conversation_id).exists():
        raise NotFound(_("No conversation with this id."))
    rows = Message.objects.filter(conversation_id=conversation_id)
    return rows.filter(role=role) if role else rows
