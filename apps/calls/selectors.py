"""Reads for calls (active client's schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.calls.models import Call
from apps.core.errors import NotFound


@dataclass(frozen=True)
class CallSession:
    """What a call's socket needs, loaded once when it opens."""

    call_sid: str
    conversation_id: int
    language: str
    mode: str


def call_session(*, call_sid: str, conversation_id: int) -> CallSession | None:
    """The live call a socket's token names, or None (unknown, other conversation, already over)."""
    call = Call.objects.select_related("conversation").filter(call_sid=call_sid).first()
    if call is None or call.conversation_id != conversation_id or call.ended_at is not None \
            or call.conversation is None:
        return None
    state = call.conversation.state if isinstance(call.conversation.state, dict) else {}
    return CallSession(call_sid=call.call_sid, conversation_id=call.conversation_id,
                       language=str(state.get("language") or call.conversation.language), mode=call.mode)


def calls_list(*, status: str = "", direction: str = "", agent_id: int | None = None, number: str = "",
               since: date | None = None, until: date | None = None) -> QuerySet[Call]:
    calls = Call.objects.select_related("agent", "conversation")
    if status:
        calls = calls.filter(status=status)
    if direction:
        calls = calls.filter(direction=direction)
    if agent_id is not None:
        calls = calls.filter(agent_id=agent_id)
    if number:
        calls = calls.filter(from_number__contains=number) | calls.filter(to_number__contains=number)
    if since is not None:
        calls = calls.filter(started__date__gte=since)
    if until is not None:
        calls = calls.filter(started__date__lte=until)
    return calls.order_by("-started", "-id")


def call_detail(*, call_id: int) -> Call | None:
    return Call.objects.select_related("agent", "conversation").filter(id=call_id).first()


def call_get(*, call_id: int) -> Call:
    """One call of the active client's schema, or NotFound (an id of another client's schema included)."""
    found = call_detail(call_id=call_id)
    if found is None:
        raise NotFound(_("No call with this id."))
    return found


def call_recording_get(*, call_id: int) -> Call:
    """A call whose recording can be played, or NotFound (no such call, no recording, a recording Twilio
    reported absent or failed)."""
    found = call_get(call_id=call_id)
    if not found.recording_sid or found.recording_status in RECORDING_UNPLAYABLE:
        raise NotFound(_("This call has no recording."))
    return found


RECORDING_UNPLAYABLE = ("absent", "failed", "deleted")


def agent_phone_modes(*, agent_ids: set[int]) -> dict[int, str]:
    """{agent id: answering mode} for the agents of `agent_ids` that exist in the active client's schema (an agent
    without phone settings answers in the default mode)."""
    from apps.agents.models import Agent
    from apps.calls.models import Mode, PhoneSettings

    if not agent_ids:
        return {}
    modes = {agent_id: str(Mode.RELAY) for agent_id in Agent.objects.filter(id__in=agent_ids)
             .values_list("id", flat=True)}
    for agent_id, mode in PhoneSettings.objects.filter(agent_id__in=modes).values_list("agent_id", "mode"):
        modes[agent_id] = mode
    return modes


# What each timeline entry says, for people (the codes stay in the data and in the API).
TIMELINE_LABELS = {
    "answered": _("Answered"), "refused": _("Refused"), "ended": _("Ended"), "recording": _("Recording"),
    "language": _("Language changed"), "handover": _("Hand-over"), "dtmf": _("Key pressed"),
    "interrupt": _("Interrupted"), "relay-error": _("Connection error"), "callback": _("Callback asked"),
    "queued": _("Queued"), "initiated": _("Dialling"), "ringing": _("Ringing"), "in-progress": _("In progress"),
    "completed": _("Completed"), "busy": _("Busy"), "no-answer": _("No answer"), "failed": _("Failed"),
    "canceled": _("Cancelled"),
}
INTERNAL = {"call.ended"}  # the marker that the call.ended event was sent
# What the details say, for people: hand-over states, end reasons, modes. A status callback's detail is
# Twilio's Timestamp (kept in the data) and says nothing the time column does not: not shown.
DETAIL_LABELS = {
    **TIMELINE_LABELS,  # a hand-over's or an end's state often is a call status (answered, busy, no-answer…)
    "dialing": _("Dialling"), "briefed": _("Briefed"), "no-number": _("No hand-over number"),
    "transferred": _("Transferred"), "socket-closed": _("The line was cut"), "relay-ended": _("The agent hung up"),
    "scheduled": _("Scheduled"), "relay": "ConversationRelay", "media": "Media Streams", "gather": "Gather",
    "cold": _("Cold transfer"), "warm": _("Warm transfer"),
}
TWILIO_STATUSES = {"queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed",
                   "canceled"}


def detail_label(event: str, detail: str) -> str:
    if event in TWILIO_STATUSES:
        return ""
    detail = detail.removeprefix("status:")  # an end by status callback: "status:completed"
    return str(DETAIL_LABELS.get(detail, detail))


@dataclass(frozen=True)
class TimelineRow:
    at: datetime | None
    label: str
    detail: str


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value or ""))
    except ValueError:
        return None


def call_timeline_entries(*, call: Call) -> list[dict[str, object]]:
    """The call's timeline as data (the API's): event codes, instants, details; internal markers left out."""
    return [{"event": str(entry.get("event") or ""), "at": _instant(entry.get("at")),
             "detail": str(entry.get("detail") or "")}
            for entry in call.timeline or [] if isinstance(entry, dict) and entry.get("event") not in INTERNAL]


def call_timeline(*, call: Call) -> list[TimelineRow]:
    """The call's timeline as the dashboard shows it: instants as datetimes (rendered in the client's time zone),
    events named in the member's language."""
    rows = []
    for entry in call.timeline or []:
        event = str(entry.get("event") or "")
        if event in INTERNAL:
            continue
        try:
            at = datetime.fromisoformat(str(entry.get("at") or ""))
        except ValueError:
            at = None
        rows.append(TimelineRow(at=at, label=str(TIMELINE_LABELS.get(event, event)),
                                detail=detail_label(event, str(entry.get("detail") or ""))))
    return rows


def call_transcript(*, call: Call) -> list[object]:
    from apps.conversations.models import Message

    if call.conversation_id is None:
        return []
    return list(Message.objects.filter(conversation_id=call.conversation_id).exclude(role=Message.Role.TOOL)
                .order_by("id"))


def agent_for_phone(*, agent_id: int) -> object | None:
    from apps.agents.models import Agent

    return Agent.objects.filter(id=agent_id).first()
