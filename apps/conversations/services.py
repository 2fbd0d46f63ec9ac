"""Conversations: start one, add messages as they happen; the inbox's writes (assign, take over, hand back,
reply on the conversation's channel, notes, read marks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.agents.models import LANGUAGE_CODES, Agent
from apps.audit.services import audit_record
from apps.clients.models import Membership
from apps.clients.selectors import membership_for
from apps.conversations.live import inbox_publish
from apps.conversations.models import Conversation, ConversationRead, Message, Note
from apps.core.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from apps.core.inputs import text_clean
from apps.events import payloads
from apps.events.services import event_record


def conversation_start(*, agent: Agent, channel: str, language: str = "", visitor_id: str = "",
                       metadata: dict[str, Any] | None = None) -> Conversation:
    if channel not in Conversation.Channel.values:
        raise InvalidInput(_("Unknown channel."))
    language = language or agent.default_language
    if language not in LANGUAGE_CODES:
        raise InvalidInput(_("Unknown language: choose fr, en, es, ar or ary."))
    from apps.billing.usage import usage_record

    with transaction.atomic():
        conversation = Conversation.objects.create(agent=agent, channel=channel, language=language,
                                                   visitor_id=visitor_id[:120], metadata=metadata or {})
        usage_record(kind="conversation", quantity=1, key=f"conversation:{conversation.pk}")
        event_record(type="conversation.started", data=payloads.conversation(conversation))
        inbox_publish(event="conversation", conversation_id=conversation.pk)
    return conversation


def message_add(*, conversation: Conversation, role: str, text: str = "", touch: bool = True,
                **fields: Any) -> Message:
    """Store a message; `touch=False` leaves `last_activity` to the caller (one UPDATE at the end of a turn).
    A visitor's message and an agent's reply are `message.created` events; tool and event rows are internal.

    No savepoint of its own inside the caller's transaction (an engine turn stores three to five rows): a failure
    here fails the caller's whole transaction, which is what every caller wants."""
    with transaction.atomic(savepoint=False):
        message = Message.objects.create(conversation=conversation, role=role, text=text, **fields)
        if touch:
            Conversation.objects.filter(pk=conversation.pk).update(last_activity=timezone.now())
        if role in (Message.Role.USER, Message.Role.ASSISTANT):
            event_record(type="message.created", data=payloads.message(message))
        if role == Message.Role.ASSISTANT:
            inbox_publish(event="message", conversation_id=conversation.pk)
    return message


def conversation_event_add(*, conversation_id: int, text: str) -> Message:
    """Note an event in a conversation of the current client's schema (the voice socket's "visitor interrupted
    the agent"); Conversation.DoesNotExist if the schema holds no such conversation."""
    conversation = Conversation.objects.get(pk=conversation_id)
    return message_add(conversation=conversation, role=Message.Role.EVENT, text=text)


def conversation_set_outcome(*, conversation: Conversation, outcome: str) -> None:
    """Outcomes only move forward: a booked conversation does not fall back to 'answered'.

    Compares with `conversation.outcome` as loaded: the engine holds the row it read at the start of the turn
    (a visitor's turns are sequential), and this function keeps that copy up to date."""
    rank = {value: index for index, value in enumerate(Conversation.Outcome.values)}
    current = conversation.outcome
    if current is None or rank[outcome] > rank.get(current, 0) or outcome == Conversation.Outcome.ENDED:
        fields: dict[str, Any] = {"outcome": outcome}
        if outcome == Conversation.Outcome.ENDED:
            fields["ended"] = timezone.now()
            fields["outcome"] = current if current not in (None, Conversation.Outcome.OPEN) else outcome
        # the inbox: the agent handing over needs a person (open); a conversation the agent ended alone is resolved
        if outcome == Conversation.Outcome.HANDOVER and conversation.status == Conversation.Status.PENDING:
            fields["status"] = Conversation.Status.OPEN
        elif outcome == Conversation.Outcome.ENDED and conversation.status == Conversation.Status.PENDING:
            fields["status"] = Conversation.Status.RESOLVED
        with transaction.atomic(savepoint=False):
            # the first end (and only it) is a conversation.ended event
            first_end = outcome == Conversation.Outcome.ENDED and Conversation.objects.filter(
                pk=conversation.pk, ended__isnull=True).update(**fields)
            if not first_end:
                Conversation.objects.filter(pk=conversation.pk).update(**fields)
            conversation.outcome = fields["outcome"]
            if first_end:
                conversation.ended = fields["ended"]
                event_record(type="conversation.ended", data=payloads.conversation(conversation))
        if "status" in fields:
            conversation.status = fields["status"]
            inbox_publish(event="status", conversation_id=conversation.pk, status=conversation.status)


# --- the inbox: visitors' messages, assignment, takeover, replies, notes, read marks ------------------------------
# Every service below runs inside the client's schema (the dashboard's request, or tenant_context), takes the
# conversation's id and the acting user, checks that the user is a member of this client (agency staff in the
# dashboard too), looks the conversation up in this schema only (another client's id: NotFound), writes, audits,
# and tells the open dashboards after the commit (apps/conversations/live.py).

MAX_REPLY = 4000
MAX_NOTE = 4000


def _member_require(*, client: Any, actor: Any) -> None:
    if getattr(actor, "is_staff", False) and getattr(actor, "is_authenticated", False):
        return
    if membership_for(user=actor, client=client) is None:
        raise PermissionDenied(_("Only the team of this business can use its inbox."))


def _conversation_locked(conversation_id: Any) -> Conversation:
    if not isinstance(conversation_id, int) or isinstance(conversation_id, bool) or not 0 < conversation_id < 2**63:
        raise NotFound(_("Page not found."))
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(_("Page not found."))
    return conversation


def _text(value: Any, *, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(_("The field “%(field)s” must be text.") % {"field": field})
    text = text_clean(value, field=field).strip()
    if not text:
        raise InvalidInput(_("The message is empty."))
    if len(text) > limit:
        raise PayloadTooLarge(_("The message is too long (%(max)d characters at most).") % {"max": limit})
    return text


def _audit(action: str, conversation: Conversation, actor: Any, ip: str | None, **data: Any) -> None:
    audit_record(action=action, actor=actor, target=f"conversation:{conversation.pk}", ip=ip,
                 data={"conversation": conversation.pk, **data})


def _member_name(user: Any) -> str:
    return (user.get_full_name() or "").strip() or user.email.split("@", 1)[0]


def conversation_human_answering(conversation: Conversation) -> bool:
    """Whether a person of the team has taken the conversation over: then the agent does not answer it."""
    return conversation.taken_over_by_id is not None


def visitor_message_add(*, conversation: Conversation, text: str, touch: bool = True) -> Message:
    """The visitor's message (every channel's engine turn starts here): stored, a `message.created` event, a
    resolved conversation reopened (pending for the agent, open when a person answers it), the dashboards told,
    the assignee notified. `touch=False`: the caller writes `last_activity` itself, in the same transaction (the
    built-in engine's turn ends with one UPDATE of the conversation); a reopening is written here either way."""
    message = Message.objects.create(conversation=conversation, role=Message.Role.USER, text=text)
    event_record(type="message.created", data=payloads.message(message))
    fields: dict[str, Any] = {"last_activity": timezone.now()} if touch else {}
    if conversation.status == Conversation.Status.RESOLVED:
        fields["status"] = (Conversation.Status.OPEN if conversation_human_answering(conversation)
                            else Conversation.Status.PENDING)
        conversation.status = fields["status"]
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    inbox_publish(event="message", conversation_id=conversation.pk)
    if conversation.assignee_id is not None:
        from apps.conversations.notify import assignee_notify

        assignee_notify(conversation=conversation, user_id=conversation.assignee_id, reason="message", text=text)
    return message


def conversation_assign(*, client: Any, conversation_id: Any, assignee_id: int | None, actor: Any,
                        ip: str | None = None) -> Conversation:
    """Assign the conversation to a member of this client (None: nobody). The new assignee is notified."""
    _member_require(client=client, actor=actor)
    if assignee_id is not None:
        membership = Membership.objects.filter(client=client, user_id=assignee_id).select_related("user").first() \
            if isinstance(assignee_id, int) and 0 < assignee_id < 2**63 else None
        if membership is None:
            raise InvalidInput(_("Choose a member of the team."))
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        previous = conversation.assignee_id
        if previous == assignee_id:
            return conversation
        conversation.assignee_id = assignee_id
        conversation.save(update_fields=["assignee"])
        _audit("conversation.assigned", conversation, actor, ip, previous=previous, assignee=assignee_id)
        inbox_publish(event="assigned", conversation_id=conversation.pk, assignee=assignee_id)
        if assignee_id is not None and assignee_id != getattr(actor, "pk", None):
            from apps.conversations.notify import assignee_notify

            assignee_notify(conversation=conversation, user_id=assignee_id, reason="assigned")
    return conversation


def conversation_status_set(*, client: Any, conversation_id: Any, status: Any, actor: Any,
                            ip: str | None = None) -> Conversation:
    _member_require(client=client, actor=actor)
    if status not in Conversation.Status.values:
        raise InvalidInput(_("Unknown status."))
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        if conversation.status == status:
            return conversation
        previous, conversation.status = conversation.status, status
        conversation.save(update_fields=["status"])
        _audit("conversation.status_changed", conversation, actor, ip, previous=previous, status=status)
        inbox_publish(event="status", conversation_id=conversation.pk, status=status)
    return conversation


def _notice(conversation: Conversation, text: str) -> Message:
    """Tell the visitor (in the conversation's language) that a person joined or left."""
    message = Message.objects.create(conversation=conversation, role=Message.Role.NOTICE, text=text)
    return message


def _takeover(conversation: Conversation, actor: Any, ip: str | None) -> None:
    conversation.taken_over_by_id, conversation.taken_over_at = actor.pk, timezone.now()
    conversation.status = Conversation.Status.OPEN
    fields = ["taken_over_by", "taken_over_at", "status"]
    if conversation.assignee_id is None:
        conversation.assignee_id = actor.pk
        fields.append("assignee")
    conversation.save(update_fields=fields)
    with translation.override(conversation.language):
        _notice(conversation, _("%(name)s from our team has joined the conversation and will answer you.")
                % {"name": _member_name(actor)})
    _audit("conversation.taken_over", conversation, actor, ip)
    inbox_publish(event="takeover", conversation_id=conversation.pk, member=actor.pk)


def conversation_takeover(*, client: Any, conversation_id: Any, actor: Any, ip: str | None = None) -> Conversation:
    """A member answers from now on: the agent stays silent on this conversation until it is handed back.
    The conversation becomes open and, if nobody had it, assigned to the member; the visitor is told."""
    _member_require(client=client, actor=actor)
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        if conversation.ended is not None:
            raise InvalidInput(_("This conversation has ended."))
        if conversation.taken_over_by_id == actor.pk:
            return conversation
        _takeover(conversation, actor, ip)
    return conversation


def conversation_handback(*, client: Any, conversation_id: Any, actor: Any, ip: str | None = None) -> Conversation:
    """The agent answers again (the conversation goes back to pending); the visitor is told."""
    _member_require(client=client, actor=actor)
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        if conversation.taken_over_by_id is None:
            raise InvalidInput(_("The agent is already answering this conversation."))
        previous = conversation.taken_over_by_id
        conversation.taken_over_by_id, conversation.taken_over_at = None, None
        if conversation.status == Conversation.Status.OPEN:
            conversation.status = Conversation.Status.PENDING
        conversation.save(update_fields=["taken_over_by", "taken_over_at", "status"])
        with translation.override(conversation.language):
            _notice(conversation, _("Our assistant is back to help you. Our team can still read this conversation."))
        _audit("conversation.handed_back", conversation, actor, ip, member=previous)
        inbox_publish(event="handback", conversation_id=conversation.pk)
    return conversation


# The member's reply, per channel. Widget conversations: the message is stored and the visitor's widget shows it
# on its next poll (GET /widget/v1/updates, every few seconds while a person answers). SMS, WhatsApp and e-mail:
# also a Delivery through the messaging seam (its Celery task sends it through the client's provider).
# A phone call is not answered in writing (the phone channel would add its own sender here).

def _reply_widget(conversation: Conversation, message: Message) -> None:
    return None


def _reply_message(conversation: Conversation, message: Message) -> None:
    from apps.messaging.services import message_send

    to = conversation.visitor_email if conversation.channel == Conversation.Channel.EMAIL else \
        conversation.visitor_phone
    if not to:
        raise InvalidInput(_("This conversation has no address to answer to."))
    subject = ""
    if conversation.channel == Conversation.Channel.EMAIL:
        subject = str(conversation.metadata.get("subject") or "") if isinstance(conversation.metadata, dict) else ""
        subject = subject if subject.lower().startswith("re:") or not subject else f"Re: {subject}"
    message_send(channel=conversation.channel, to=to, body=message.text, subject=subject, conversation=conversation)


REPLY_SENDERS = {
    Conversation.Channel.WIDGET_TEXT: _reply_widget,
    Conversation.Channel.WIDGET_VOICE: _reply_widget,
    Conversation.Channel.DASHBOARD: _reply_widget,
    Conversation.Channel.SMS: _reply_message,
    Conversation.Channel.WHATSAPP: _reply_message,
    Conversation.Channel.EMAIL: _reply_message,
}


def conversation_reply_send(*, client: Any, conversation_id: Any, text: Any, actor: Any,
                            ip: str | None = None) -> Message:
    """The member's reply to the visitor, out on the conversation's channel. Replying takes the conversation
    over first (the agent must not answer over a person)."""
    _member_require(client=client, actor=actor)
    text = _text(text, field="text", limit=MAX_REPLY)
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        sender = REPLY_SENDERS.get(conversation.channel)
        if sender is None:
            raise InvalidInput(_("This conversation cannot be answered in writing from the inbox."))
        if conversation.ended is not None:
            raise InvalidInput(_("This conversation has ended."))
        if conversation.taken_over_by_id != actor.pk:
            _takeover(conversation, actor, ip)
        message = Message.objects.create(conversation=conversation, role=Message.Role.MEMBER, text=text,
                                         author_id=actor.pk)
        Conversation.objects.filter(pk=conversation.pk).update(last_activity=timezone.now())
        sender(conversation, message)
        _read_mark(conversation, actor, message.pk)
        _audit("conversation.replied", conversation, actor, ip, message=message.pk, channel=conversation.channel)
        inbox_publish(event="message", conversation_id=conversation.pk)
    return message


def note_create(*, client: Any, conversation_id: Any, text: Any, actor: Any, ip: str | None = None) -> Note:
    """A private note of the team: never shown to the visitor, never given to the agent."""
    _member_require(client=client, actor=actor)
    text = _text(text, field="note", limit=MAX_NOTE)
    with transaction.atomic():
        conversation = _conversation_locked(conversation_id)
        note = Note.objects.create(conversation=conversation, author_id=actor.pk, text=text)
        _audit("conversation.note_added", conversation, actor, ip, note=note.pk)
        inbox_publish(event="note", conversation_id=conversation.pk)
    return note


def _read_mark(conversation: Conversation, actor: Any, last_message_id: int) -> None:
    ConversationRead.objects.update_or_create(conversation=conversation, user_id=actor.pk,
                                              defaults={"last_message_id": last_message_id})


def conversation_view(*, client: Any, conversation_id: Any, actor: Any) -> Conversation:
    """A member opens a conversation: it is theirs to read (NotFound if this client has no such conversation),
    and it counts as read for them up to its latest message."""
    _member_require(client=client, actor=actor)
    if not isinstance(conversation_id, int) or not 0 < conversation_id < 2**63:
        raise NotFound(_("Page not found."))
    conversation = Conversation.objects.select_related("agent").filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(_("Page not found."))
    latest = conversation.messages.order_by("-id").values_list("id", flat=True).first() or 0
    _read_mark(conversation, actor, latest)
    return conversation


@dataclass(frozen=True)
class InboxPage:
    filters: Any
    rows: list[Conversation]
    selected: Conversation | None
    timeline: list[Any]
    members: list[Membership]
    unread: int


def inbox_page(*, client: Any, actor: Any, params: Any, conversation_id: int | None = None) -> InboxPage:
    """The inbox page for a member: the filtered list (one query), and the conversation they opened, marked read
    for them (NotFound when this client has no such conversation)."""
    from apps.conversations import selectors

    _member_require(client=client, actor=actor)
    selected = conversation_view(client=client, conversation_id=conversation_id, actor=actor) \
        if conversation_id is not None else None
    filters = selectors.inbox_filters(params)
    return InboxPage(filters=filters, rows=selectors.inbox_conversations(user_id=actor.pk, filters=filters),
                     selected=selected,
                     timeline=selectors.conversation_timeline(conversation=selected) if selected else [],
                     members=selectors.inbox_members(client=client),
                     unread=selectors.inbox_unread_count(user_id=actor.pk))
