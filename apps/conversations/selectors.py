"""Reads on conversations, inside the client's schema: the REST API's list, get and messages; the inbox's list with
each row's unread count for the member and its latest message, in one query; a timeline; the unread badge.

Unread: the visitor's messages after the last message the member saw (`ConversationRead`). The badge counts the
conversations that need a person (open) and are the member's or nobody's, with something unread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from apps.clients.models import Membership
from apps.conversations.models import Conversation, ConversationRead, Message, Note
from apps.conversations.transcript import ToolCard, tool_card
from apps.core.errors import NotFound

SHOWN_ROLES = [Message.Role.USER, Message.Role.ASSISTANT, Message.Role.MEMBER]


@dataclass(frozen=True)
class InboxFilters:
    status: str = ""
    channel: str = ""
    mine: str = ""  # "me": assigned to the member; "none": nobody's
    unread: bool = False
    query_keys: dict[str, str] = field(default_factory=dict)


def inbox_filters(params: Any) -> InboxFilters:
    """The list's filters from a query string; unknown values are ignored (the whole list)."""
    status = params.get("status", "")
    channel = params.get("channel", "")
    mine = params.get("assigned", "")
    unread = params.get("unread", "") == "1"
    status = status if status in Conversation.Status.values or status == "all" else ""
    channel = channel if channel in Conversation.Channel.values else ""
    mine = mine if mine in ("me", "none") else ""
    keys = {key: value for key, value in (("status", status), ("channel", channel), ("assigned", mine),
                                           ("unread", "1" if unread else "")) if value}
    return InboxFilters(status=status, channel=channel, mine=mine, unread=unread, query_keys=keys)


def _read_upto(user_id: int) -> Subquery:
    return Subquery(ConversationRead.objects.filter(conversation=OuterRef("pk"), user_id=user_id)
                    .values("last_message_id")[:1], output_field=IntegerField())


def _annotated(user_id: int) -> QuerySet[Conversation]:
    unread = (Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.USER,
                                     id__gt=Coalesce(OuterRef("read_upto"), Value(0)))
              .order_by().values("conversation").annotate(count=Count("id")).values("count"))
    latest = Message.objects.filter(conversation=OuterRef("pk"), role__in=SHOWN_ROLES).order_by("-id")
    return (Conversation.objects.select_related("agent", "assignee", "taken_over_by")
            .annotate(read_upto=_read_upto(user_id))
            .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
                      preview=Subquery(latest.values("text")[:1]),
                      preview_role=Subquery(latest.values("role")[:1])))


def inbox_conversations(*, user_id: int, filters: InboxFilters, limit: int = 50) -> list[Conversation]:
    """The inbox list for a member, newest activity first, each row with `unread`, `preview`, `preview_role`,
    its agent and its assignee: one query, whatever the number of rows."""
    rows = _annotated(user_id)
    if filters.status == "":
        rows = rows.exclude(status=Conversation.Status.RESOLVED)
    elif filters.status != "all":
        rows = rows.filter(status=filters.status)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.mine == "me":
        rows = rows.filter(assignee_id=user_id)
    elif filters.mine == "none":
        rows = rows.filter(assignee__isnull=True)
    if filters.unread:
        rows = rows.filter(unread__gt=0)
    return list(rows.order_by("-last_activity", "-id")[:limit])


def inbox_unread_count(*, user_id: int) -> int:
    """The member's badge: open conversations, theirs or nobody's, with a visitor's message they have not read."""
    later = Message.objects.filter(conversation=OuterRef("pk"), role=Message.Role.USER,
                                   id__gt=Coalesce(OuterRef("read_upto"), Value(0)))
    return (Conversation.objects.filter(status=Conversation.Status.OPEN)
            .filter(Q(assignee_id=user_id) | Q(assignee__isnull=True))
            .annotate(read_upto=_read_upto(user_id)).filter(Exists(later)).count())


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # user, assistant, member, notice, tool, event, note
    text: str
    created: Any
    author: str = ""
    message: Message | None = None
    tool: ToolCard | None = None


def conversation_timeline(*, conversation: Conversation) -> list[TimelineEntry]:
    """Messages and the team's private notes, in the order they happened (two queries)."""
    entries: list[tuple[Any, int, TimelineEntry]] = []
    for m in conversation.messages.select_related("author").order_by("id"):
        card = tool_card(name=m.tool_name, arguments=m.tool_args, result=m.tool_result) \
            if m.role == Message.Role.TOOL else None
        author = (m.author.get_full_name() or m.author.email) if m.author_id and m.author else ""
        entries.append((m.created, 0, TimelineEntry(kind=m.role, text=m.text, created=m.created, author=author,
                                                    message=m, tool=card)))
    for note in Note.objects.filter(conversation=conversation).select_related("author").order_by("id"):
        author = (note.author.get_full_name() or note.author.email) if note.author else ""
        entries.append((note.created, 1, TimelineEntry(kind="note", text=note.text, created=note.created,
                                                       author=author)))
    entries.sort(key=lambda item: (item[0], item[1]))
    return [entry for _created, _order, entry in entries]


def inbox_members(*, client: Any) -> list[Membership]:
    return list(Membership.objects.filter(client=client).select_related("user").order_by("user__email"))


def widget_updates(*, conversation: Conversation, after: int) -> list[Message]:
    """What the widget's visitor has not been shown yet: the team's replies and the notices (a person joined or
    left) after message `after`."""
    return list(conversation.messages.filter(id__gt=after, role__in=[Message.Role.MEMBER, Message.Role.NOTICE])
                .select_related("author").order_by("id")[:50])


def member_reply_text(*, conversation_id: int, message_id: int) -> str:
    """A team member's reply in this conversation, to be spoken to a visitor on a voice session; NotFound for
    any other message (another conversation's, the agent's, the visitor's own)."""
    text = (Message.objects.filter(conversation_id=conversation_id, pk=message_id, role=Message.Role.MEMBER)
            .values_list("text", flat=True).first())
    if text is None:
        raise NotFound(_("No reply of the team with this id in this conversation."))
    return text


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
