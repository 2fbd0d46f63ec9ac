"""The agent's tools: a JSON schema (for LLM function calling), a plan feature, and a service call.

Adding a tool: write its handler here (parse arguments → one service → a JSON-able dict), add one
`Tool(...)` line to TOOLS, add its name to the sector templates that should recommend it, and
test it (tests/agents/test_tools.py). Handlers run inside the client's schema, on the DB thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.agents import sectors
from apps.bookings import services as bookings
from apps.conversations.models import Conversation
from apps.core.errors import InvalidInput
from apps.crm import services as crm
from apps.integrations.llm.base import ToolSpec
from apps.knowledge.selectors import MIN_CONFIDENCE, answer_sentences, business_words, knowledge_search
from apps.messaging.services import message_send


@dataclass
class ToolContext:
    client: Any
    agent: Any
    conversation: Conversation
    language: str


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[[ToolContext, dict[str, Any]], dict[str, Any]]
    feature: str | None = None  # the plan feature it needs
    outcome: str | None = None  # the conversation outcome it sets when it succeeds
    # What a channel does when the tool succeeds, whatever the tool's name: "handover" (a person takes over), "end"
    # (the conversation is over), "booking" / "lead" (the widget shows that card). See EFFECTS.
    effects: tuple[str, ...] = field(default=())

    def spec(self) -> ToolSpec:
        return ToolSpec(name=self.name, description=self.description, parameters=self.parameters)


EFFECTS = ("handover", "end", "booking", "lead")


def tool_effects(name: str) -> tuple[str, ...]:
    """What the channels do after a successful call of the tool `name` (nothing for an unknown name)."""
    tool = TOOLS.get(name)
    return tool.effects if tool is not None else ()


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


def _when(value: Any) -> datetime:
    try:
        moment = parse_datetime(str(value or ""))
    except ValueError:  # well formed but impossible: 2026-02-30T10:00
        moment = None
    if moment is None:
        raise InvalidInput("expected an ISO 8601 date-time, e.g. 2026-11-24T10:30:00+01:00")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=bookings.client_zone())
    try:  # 9999-12-31T23:00-05:00 parses, but is past year 9999 in UTC, where PostgreSQL gets it
        moment.astimezone(UTC).astimezone(bookings.client_zone())
    except OverflowError:
        raise InvalidInput(gettext("This date cannot be booked.")) from None
    return moment


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        parsed = parse_date(str(value)[:10])
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput("expected a date, e.g. 2026-11-24")
    today = timezone.now().astimezone(bookings.client_zone()).date()
    if not today <= parsed <= today + timedelta(days=bookings.MAX_DAYS_AHEAD):
        raise InvalidInput(gettext("This date cannot be booked: choose a day between today and %(days)d days from now.")
                           % {"days": bookings.MAX_DAYS_AHEAD})
    return parsed


def _iso(moment: datetime) -> str:
    return moment.astimezone(bookings.client_zone()).isoformat(timespec="minutes")


def check_availability(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    day = _day(args.get("date"))
    days = min(max(int(args.get("days") or (1 if day else 7)), 1), 14)
    limit = min(max(int(args.get("limit") or 6), 1), 50)
    slots = bookings.slots_available(agent=ctx.agent, start_day=day, days=days, limit=limit)
    if day and args.get("time"):  # an exact time asked for, off the usual grid: offer it first when free
        try:
            wanted = datetime.combine(day, time.fromisoformat(str(args["time"])), bookings.client_zone())
        except ValueError:
            raise InvalidInput("time must be HH:MM") from None
        if wanted not in slots and bookings.slot_is_free(agent=ctx.agent, start=wanted):
            slots = [wanted, *slots]
    return {"slots": [_iso(slot) for slot in slots], "timezone": str(bookings.client_zone()),
            "duration_minutes": ctx.agent.appointment_minutes}


def book_appointment(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    appointment = bookings.appointment_book(
        agent=ctx.agent, start=_when(args.get("start")), customer_name=str(args.get("name") or ""),
        customer_phone=str(args.get("phone") or ""), customer_email=str(args.get("email") or ""),
        notes=str(args.get("notes") or ""), conversation=ctx.conversation,
        notify_channel=str(args.get("notify_by") or ""), language=ctx.language)
    return {"reference": appointment.reference, "start": _iso(appointment.start), "end": _iso(appointment.end),
            "name": appointment.customer_name, "timezone": str(bookings.client_zone()),
            "confirmation": _confirm(ctx, appointment)}


def _confirm(ctx: ToolContext, appointment: Any) -> str:
    """The confirmation the agent promises is the booking's own notice, planned by `appointment_book`
    (apps.messaging.notices: on the channel the person chose, else e-mail, else SMS; in their language and the
    client's time zone, reminders after it). Its channel when one was queued, "" when none leaves."""
    from apps.messaging.models import Notice

    notice = (Notice.objects.filter(appointment=appointment, kind__in=(Notice.Kind.CONFIRMED, Notice.Kind.CHANGED))
              .exclude(status=Notice.Status.SKIPPED).first())
    return notice.channel if notice is not None else ""


def cancel_or_reschedule(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    reference = str(args.get("reference") or "")
    if args.get("new_start"):
        appointment = bookings.appointment_reschedule(reference=reference, start=_when(args["new_start"]))
        return {"action": "rescheduled", "reference": appointment.reference, "start": _iso(appointment.start),
                "timezone": str(bookings.client_zone())}
    appointment = bookings.appointment_cancel(reference=reference)
    return {"action": "cancelled", "reference": appointment.reference, "start": _iso(appointment.start),
            "timezone": str(bookings.client_zone())}


def qualify_lead(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    lead = crm.lead_qualify(
        conversation=ctx.conversation, name=str(args.get("name") or ""), email=str(args.get("email") or ""),
        phone=str(args.get("phone") or ""), company=str(args.get("company") or ""),
        need=str(args.get("need") or ""), budget=args.get("budget"), currency=str(args.get("currency") or ""),
        is_decision_maker=args.get("is_decision_maker"), timeline=str(args.get("timeline") or ""),
        timeline_days=args.get("timeline_days"))
    return {"lead_id": lead.pk, "score": lead.score, "breakdown": lead.breakdown}


def create_ticket(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    ticket = crm.ticket_create(subject=str(args.get("subject") or ""), description=str(args.get("description") or ""),
                               priority=str(args.get("priority") or "normal"), contact=str(args.get("contact") or ""),
                               conversation=ctx.conversation)
    return {"ticket_id": ticket.pk, "priority": ticket.priority}


def search_knowledge_base(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = str(args.get("query") or "").strip()
    if not query:
        raise InvalidInput("query is required")
    own = _own_words(ctx.agent)
    passages = knowledge_search(query=query, limit=min(int(args.get("limit") or 3), 5), language=ctx.language,
                                agent_id=getattr(ctx.agent, "pk", None), min_confidence=MIN_CONFIDENCE, own_words=own)
    # "answer": the passage's sentence(s) that answer the question (the built-in engine says only these)
    return {"passages": [{"document": p.title, "document_id": p.document_id, "chunk_id": p.chunk_id, "text": p.text,
                          "answer": answer_sentences(p.text, query, own_words=own), "score": p.score,
                          "confidence": p.confidence} for p in passages]}


def _own_words(agent: Any) -> frozenset[str]:
    """The agent's business name and its sector's names, whose words say where a question is asked."""
    if agent is None:
        return frozenset()
    code = getattr(agent, "sector", "") or ""
    names = (sectors.sectors().get(code) or {}).get("names", {}) if code != "general" else {}
    business = getattr(agent, "business", None) or {}
    name = str(business.get("business_name") or getattr(agent, "name", "") or "")
    return business_words(name, *[str(names[language]) for language in sorted(names)])


def transfer_to_human(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"transferred": True, "reason": str(args.get("reason") or "")[:300],
            "phone": ctx.agent.handover_phone, "email": ctx.agent.handover_email}


def schedule_callback(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    due = _when(args["when"]) if args.get("when") else timezone.now() + timedelta(hours=1)
    callback = crm.callback_schedule(phone=str(args.get("phone") or ""), due_at=due, name=str(args.get("name") or ""),
                                     reason=str(args.get("reason") or ""), conversation=ctx.conversation)
    return {"callback_id": callback.pk, "when": _iso(callback.due_at)}


def send_message(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    from apps.clients.entitlements import client_require

    channel = str(args.get("channel") or "")
    if channel in CHANNEL_FEATURES:
        client_require(ctx.client, CHANNEL_FEATURES[channel])
    message = message_send(channel=str(args.get("channel") or ""), to=str(args.get("to") or ""),
                           body=str(args.get("body") or ""), subject=str(args.get("subject") or ""),
                           conversation=ctx.conversation)
    return {"message_id": message.pk, "status": message.status}


def end_conversation(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return {"ended": True, "reason": str(args.get("reason") or "")[:200]}


_PHONE = {"type": "string", "description": "Phone number, international format when known"}
_EMAIL = {"type": "string", "description": "E-mail address"}

TOOLS: dict[str, Tool] = {tool.name: tool for tool in [
    Tool("check_availability", "List free appointment start times (ISO 8601, client's time zone).",
         _obj({"date": {"type": "string", "description": "Day to look at, YYYY-MM-DD; omit for the next days"},
               "time": {"type": "string", "description": "Preferred start HH:MM on that day, if any"},
               "days": {"type": "integer", "minimum": 1, "maximum": 14},
               "limit": {"type": "integer", "minimum": 1, "maximum": 50}}), check_availability, feature="booking"),
    Tool("book_appointment", "Book an appointment at a free start time returned by check_availability.",
         _obj({"start": {"type": "string", "description": "ISO 8601 start time"},
               "name": {"type": "string"}, "phone": _PHONE, "email": _EMAIL, "notes": {"type": "string"},
               "notify_by": {"type": "string", "enum": ["sms", "whatsapp", "email"],
                             "description": "How the person wants the confirmation and reminders"}},
              ["start", "name"]), book_appointment, feature="booking", outcome=Conversation.Outcome.BOOKED,
         effects=("booking",)),
    Tool("cancel_or_reschedule", "Cancel an appointment by its reference, or move it to new_start.",
         _obj({"reference": {"type": "string"}, "new_start": {"type": "string", "description": "ISO 8601"}},
              ["reference"]), cancel_or_reschedule, feature="booking"),
    Tool("qualify_lead", "Record a sales lead with BANT facts (budget, authority, need, timeline); returns a "
         "0-100 score.",
         _obj({"name": {"type": "string"}, "email": _EMAIL, "phone": _PHONE, "company": {"type": "string"},
               "need": {"type": "string"}, "budget": {"type": "number"}, "currency": {"type": "string"},
               "is_decision_maker": {"type": "boolean"}, "timeline": {"type": "string"},
               "timeline_days": {"type": "integer", "minimum": 0}}), qualify_lead, feature="lead_qualification",
         outcome=Conversation.Outcome.LEAD, effects=("lead",)),
    Tool("create_ticket", "Open a support ticket for a problem the agent cannot solve.",
         _obj({"subject": {"type": "string"}, "description": {"type": "string"},
               "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
               "contact": {"type": "string"}}, ["subject"]), create_ticket, outcome=Conversation.Outcome.TICKET),
    Tool("search_knowledge_base", "Search the business's documents; answer only from the passages returned.",
         _obj({"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 5}}, ["query"]),
         search_knowledge_base, feature="knowledge_base", outcome=Conversation.Outcome.ANSWERED),
    Tool("transfer_to_human", "Hand the conversation over to a person of the business.",
         _obj({"reason": {"type": "string"}}), transfer_to_human, outcome=Conversation.Outcome.HANDOVER,
         effects=("handover",)),
    Tool("schedule_callback", "Arrange for the business to call the person back.",
         _obj({"phone": _PHONE, "name": {"type": "string"}, "when": {"type": "string", "description": "ISO 8601"},
               "reason": {"type": "string"}}, ["phone"]), schedule_callback, feature="outbound_calls",
         outcome=Conversation.Outcome.CALLBACK),
    Tool("send_message", "Send an SMS, WhatsApp message or e-mail (e.g. a booking confirmation).",
         _obj({"channel": {"type": "string", "enum": ["sms", "whatsapp", "email"]}, "to": {"type": "string"},
               "subject": {"type": "string"}, "body": {"type": "string"}}, ["channel", "to", "body"]),
         send_message),
    Tool("end_conversation", "End the conversation politely when the person is done.",
         _obj({"reason": {"type": "string"}}), end_conversation, effects=("end",)),
]}

TOOL_LABELS = {
    "check_availability": _("Check availability"),
    "book_appointment": _("Book appointments"),
    "cancel_or_reschedule": _("Cancel or move appointments"),
    "qualify_lead": _("Qualify leads"),
    "create_ticket": _("Open support tickets"),
    "search_knowledge_base": _("Answer from the knowledge base"),
    "transfer_to_human": _("Hand over to a person"),
    "schedule_callback": _("Schedule callbacks"),
    "send_message": _("Send SMS, WhatsApp or e-mail"),
    "end_conversation": _("End the conversation"),
}

# What one call of a tool did, as a conversation's transcript names it
TOOL_CALL_LABELS = {
    "check_availability": _("Check availability"),
    "book_appointment": _("Book an appointment"),
    "cancel_or_reschedule": _("Cancel or move an appointment"),
    "qualify_lead": _("Qualify a lead"),
    "create_ticket": _("Open a support ticket"),
    "search_knowledge_base": _("Search the knowledge base"),
    "transfer_to_human": _("Hand over to a person"),
    "schedule_callback": _("Schedule a callback"),
    "send_message": _("Send a message"),
    "end_conversation": _("End the conversation"),
}

# The tools' argument and result names, for people
TOOL_FIELD_LABELS = {
    "action": _("Action"), "arguments": _("Arguments"), "result": _("Result"), "body": _("Message"),
    "breakdown": _("Score details"), "budget": _("Budget"),
    "callback_id": _("Callback"), "channel": _("Channel"), "code": _("Code"), "company": _("Company"),
    "contact": _("Contact"), "currency": _("Currency"), "date": _("Date"), "days": _("Days"),
    "description": _("Description"), "duration_minutes": _("Duration (minutes)"), "email": _("E-mail"),
    "end": _("End"), "ended": _("Ended"), "error": _("Error"), "is_decision_maker": _("Decision maker"),
    "lead_id": _("Lead"), "limit": _("Limit"), "message_id": _("Message"), "name": _("Name"),
    "need": _("Need"), "new_start": _("New time"), "notes": _("Notes"), "passages": _("Passages"),
    "phone": _("Phone"), "priority": _("Priority"), "query": _("Question"), "reason": _("Reason"),
    "reference": _("Reference"), "score": _("Score"), "slots": _("Free times"), "start": _("Time"),
    "status": _("Status"), "subject": _("Subject"), "ticket_id": _("Ticket"), "time": _("Time"),
    "timeline": _("Timeline"), "timeline_days": _("Timeline (days)"), "timezone": _("Time zone"),
    "to": _("To"), "transferred": _("Transferred"), "when": _("When"),
}


def tool_label(name: str) -> str:
    """One call of the tool, named for people in the active language; an unknown tool's name as is."""
    return str(TOOL_CALL_LABELS[name]) if name in TOOL_CALL_LABELS else name


def tool_field_label(key: str) -> str:
    return str(TOOL_FIELD_LABELS[key]) if key in TOOL_FIELD_LABELS else key


# send_message needs the channel's own feature
CHANNEL_FEATURES = {"sms": "sms", "whatsapp": "whatsapp", "email": "email_notifications"}


def tools_for(*, agent: Any, client: Any) -> list[Tool]:
    """The tools this agent may use: enabled on the agent and allowed by the client's plan."""
    from apps.clients.entitlements import client_may

    return [TOOLS[name] for name in agent.tools
            if name in TOOLS and (TOOLS[name].feature is None or client_may(client, TOOLS[name].feature))]
