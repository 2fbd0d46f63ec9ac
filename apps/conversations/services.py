"""Conversations: start one, add messages as they happen."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import LANGUAGE_CODES, Agent
from apps.conversations.models import Conversation, Message
from apps.core.errors import InvalidInput
from apps.usage.services import usage_increment


def conversation_start(*, agent: Agent, channel: str, language: str = "", visitor_id: str = "",
                       metadata: dict[str, Any] | None = None) -> Conversation:
    if channel not in Conversation.Channel.values:
        raise InvalidInput(_("Unknown channel."))
    language = language or agent.default_language
    if language not in LANGUAGE_CODES:
        raise InvalidInput(_("Unknown language: choose fr, en, es, ar or ary."))
    conversation = Conversation.objects.create(agent=agent, channel=channel, language=language,
                                               visitor_id=visitor_id[:120], metadata=metadata or {})
    usage_increment(metric="conversations")
    return conversation


def message_add(*, conversation: Conversation, role: str, text: str = "", touch: bool = True,
                **fields: Any) -> Message:
    """Store a message; `touch=False` leaves `last_activity` to the caller (one UPDATE at the end of a turn)."""
    message = Message.objects.create(conversation=conversation, role=role, text=text, **fields)
    if touch:
        Conversation.objects.filter(pk=conversation.pk).update(last_activity=timezone.now())
    return message


def conversation_event_add(*, conversation_id: int, text: str) -> Message:
    """Note an event in a conversation of the current client's schema (the voice socket's "visitor interrupted
    the agent"); Conversation.DoesNotExist if the schema holds no such conversation."""
    conversation = Conversation.objects.get(pk=conversation_id)
    return message_add(conversation=conversation, role=Message.Role.EVENT, text=text)


def conversation_outcome_fields(*, conversation: Conversation, outcome: str) -> dict[str, Any]:
    """The fields an outcome changes ({} when it changes none), applied to `conversation` in memory.

    Outcomes only move forward: a booked conversation does not fall back to 'answered'. Compares with
    `conversation.outcome` as loaded: the engine holds the row it read at the start of the turn (a visitor's
    turns are sequential), and this keeps that copy up to date."""
    rank = {value: index for index, value in enumerate(Conversation.Outcome.values)}
    current = conversation.outcome
    if not (current is None or rank[outcome] > rank.get(current, 0) or outcome == Conversation.Outcome.ENDED):
        return {}
    fields: dict[str, Any] = {"outcome": outcome}
    if outcome == Conversation.Outcome.ENDED:
        fields["ended"] = timezone.now()
        fields["outcome"] = current if current not in (None, Conversation.Outcome.OPEN) else outcome
    conversation.outcome = fields["outcome"]
    return fields


def conversation_set_outcome(*, conversation: Conversation, outcome: str) -> None:
    """Store an outcome (see conversation_outcome_fields: outcomes only move forward)."""
    fields = conversation_outcome_fields(conversation=conversation, outcome=outcome)
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
