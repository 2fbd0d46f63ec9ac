"""Writes for calls, in the active client's schema (callers enter it: apps.telephony answers inside
`tenant_context`, consumers through `client_db`).

Every function is safe to repeat: Twilio retries webhooks, and a call ends through several paths (status
callback, socket closed, relay action) of which the first wins and the others change nothing.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.billing.usage import usage_record
from apps.calls.models import Call, PhoneSettings
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_set_outcome, conversation_start, message_add
from apps.events import payloads
from apps.events.services import event_record
from apps.telephony.slots import slot_release

MAX_TIMELINE = 60
MAX_TURNS = 200


def phone_settings_for(agent: Agent) -> PhoneSettings:
    """The agent's phone settings, or unsaved defaults."""
    found = PhoneSettings.objects.filter(agent=agent).first()
    return found if found is not None else PhoneSettings(agent=agent)


def _event(call: Call, event: str, detail: str = "", at: datetime | None = None) -> None:
    if len(call.timeline) < MAX_TIMELINE:
        call.timeline.append({"event": event, "at": (at or timezone.now()).isoformat(), "detail": detail[:200]})


@transaction.atomic
def call_start(*, call_sid: str, agent: Agent, from_number: str, to_number: str, mode: str, language: str,
               direction: str = Call.Direction.INBOUND, greeting: str = "", visitor: str = "") -> Call:
    """The call's record and its conversation; Twilio's retry of the same webhook finds the same call. `visitor`:
    the person's number (the caller's by default; the called person's for a call the agent placed)."""
    existing = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if existing is not None:
        return existing
    visitor = visitor or from_number
    conversation = conversation_start(agent=agent, channel=Conversation.Channel.PHONE, language=language,
                                      visitor_id=visitor, metadata={"call_sid": call_sid})
    Conversation.objects.filter(pk=conversation.pk).update(visitor_phone=visitor[:32])
    if greeting:
        message_add(conversation=conversation, role=Message.Role.ASSISTANT, text=greeting, provider="greeting")
    call = Call(call_sid=call_sid, agent=agent, conversation=conversation, direction=direction,
                from_number=from_number[:32], to_number=to_number[:32], mode=mode, status=Call.Status.IN_PROGRESS,
                languages=[language], answered_at=timezone.now())
    _event(call, "answered", mode)
    call.save()
    event_record(type="call.started", data=payloads.call(call))
    return call


def call_refused(*, call_sid: str, agent: Agent | None, from_number: str, to_number: str, reason: str) -> Call:
    """A call we answered only with a message (over the cap, no agent): on record, with no conversation."""
    call, created = Call.objects.get_or_create(call_sid=call_sid, defaults={
        "agent": agent, "from_number": from_number[:32], "to_number": to_number[:32], "status": Call.Status.COMPLETED,
        "end_reason": reason, "outcome": reason, "ended_at": timezone.now()})
    if created:
        _event(call, "refused", reason)
        call.save(update_fields=["timeline"])
    return call


@transaction.atomic
def call_note(*, call_sid: str, event: str, detail: str = "") -> None:
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is not None:
        _event(call, event, detail)
        call.save(update_fields=["timeline"])


def _summary(call: Call) -> str:
    if call.conversation_id is None:
        return ""
    asked = (Message.objects.filter(conversation_id=call.conversation_id, role=Message.Role.USER)
             .order_by("id").values_list("text", flat=True).first() or "")
    outcome = Conversation.objects.filter(pk=call.conversation_id).values_list("outcome", flat=True).first()
    # Written once for the business, in its own language (status callbacks and tasks run in no member's language).
    with translation.override(getattr(connection.tenant, "default_language", "") or settings.LANGUAGE_CODE):
        label = dict(Conversation.Outcome.choices).get(outcome or "", "")
        if not asked:
            return str(label)
        return _("%(outcome)s. The caller said first: “%(asked)s”") % {"outcome": label, "asked": asked[:160]}


@transaction.atomic
def call_finalise(*, call_sid: str, client_id: int, reason: str, status: str = "", duration_s: int | None = None,
                  at: datetime | None = None) -> Call | None:
    """End the call once (later end paths only refine its status and duration): outcome, summary, minutes
    counted for billing, the conversation closed, its slot freed."""
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        transaction.on_commit(lambda: slot_release(client_id=client_id, call_sid=call_sid))
        return None
    fields = {"timeline"}
    if status and status in Call.ENDED_STATUSES and call.status != status:
        call.status = status
        fields.add("status")
    if call.ended_at is None:
        call.ended_at = at or timezone.now()
        call.end_reason = reason[:32]
        if not call.status or call.status not in Call.ENDED_STATUSES:
            call.status = Call.Status.COMPLETED
        fields |= {"ended_at", "end_reason", "status", "outcome", "summary"}
        _event(call, "ended", reason)
        if call.conversation_id is not None:
            conversation = Conversation.objects.get(pk=call.conversation_id)
            conversation_set_outcome(conversation=conversation, outcome=Conversation.Outcome.ENDED)
            call.outcome = Conversation.objects.filter(pk=conversation.pk).values_list("outcome", flat=True).first()
        call.summary = _summary(call)
    if duration_s is not None and duration_s >= 0:
        call.duration_s = min(int(duration_s), 86_400)
        fields.add("duration_s")
    elif call.duration_s is None and call.answered_at is not None:
        call.duration_s = max(0, round(((call.ended_at or timezone.now()) - call.answered_at).total_seconds()))
        fields.add("duration_s")
    minutes = math.ceil((call.duration_s or 0) / 60) if call.answered_at is not None else 0
    if minutes > call.minutes_counted:  # billed once per minute reached, whichever end path counts it
        usage_record(kind="call_minute", quantity=minutes - call.minutes_counted,
                     key=f"call:{call.call_sid}:{minutes}")
        call.minutes_counted = minutes
        fields.add("minutes_counted")
    # call.ended once, when the duration is Twilio's own (its final status callback); a socket that drops first
    # ends the call here, and the callback that follows brings the duration the event carries.
    told = any(entry.get("event") == "call.ended" for entry in call.timeline)
    if not told and call.ended_at is not None and duration_s is not None:
        _event(call, "call.ended", "event")
        event_record(type="call.ended", data=payloads.call(call))
    call.save(update_fields=sorted(fields))
    transaction.on_commit(lambda: slot_release(client_id=client_id, call_sid=call_sid))
    return call


@transaction.atomic
def call_status_update(*, call_sid: str, client_id: int, status: str, duration_s: int | None = None,
                       detail: str = "") -> Call | None:
    """A status callback: the timeline grows; a final status ends the call."""
    if status in Call.ENDED_STATUSES:
        call = Call.objects.filter(call_sid=call_sid).first()
        if call is not None:
            call_note(call_sid=call_sid, event=status, detail=detail)
        return call_finalise(call_sid=call_sid, client_id=client_id, reason=f"status:{status}", status=status,
                             duration_s=duration_s)
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        return None
    _event(call, status, detail)
    fields = ["timeline"]
    if status in Call.Status.values and call.ended_at is None:
        call.status = status
        fields.append("status")
    call.save(update_fields=fields)
    return call


@transaction.atomic
def call_recording_update(*, call_sid: str, recording_sid: str, status: str, duration_s: int | None) -> Call | None:
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        return None
    call.recording_sid = recording_sid[:64]
    call.recording_status = status[:16]
    call.recording_duration_s = duration_s
    _event(call, "recording", status)
    call.save(update_fields=["recording_sid", "recording_status", "recording_duration_s", "timeline"])
    if status == "completed":
        event_record(type="recording.ready", data=payloads.call(call))
    return call


@transaction.atomic
def call_turn_record(*, call_sid: str, recognition_ms: int | None, engine_ms: int | None, speech_ms: int | None,
                     language: str = "") -> None:
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        return
    fields = ["turns"]
    if len(call.turns) < MAX_TURNS:
        call.turns.append({"recognition_ms": recognition_ms, "engine_ms": engine_ms, "speech_ms": speech_ms})
    if language and language not in call.languages:
        call.languages.append(language)
        _event(call, "language", language)
        fields += ["languages", "timeline"]
    call.save(update_fields=fields)


def call_heard(*, conversation_id: int, heard: str) -> None:
    """Barge-in: the agent's last message keeps only what the caller heard before interrupting."""
    message = (Message.objects.filter(conversation_id=conversation_id, role=Message.Role.ASSISTANT)
               .order_by("-id").first())
    if message is None:
        return
    heard = heard.strip()
    # Twilio echoes the words it spoke; should its rendering differ, cut our text at the same length.
    kept = heard if message.text.startswith(heard) else message.text[: len(heard)].rstrip()
    Message.objects.filter(pk=message.pk).update(text=kept, complete=False)
    message_add(conversation=message.conversation, role=Message.Role.EVENT, text="interrupted")


@transaction.atomic
def call_handover_update(*, call_sid: str, **fields: Any) -> Call | None:
    call = Call.objects.select_for_update().filter(call_sid=call_sid).first()
    if call is None:
        return None
    call.handover = {**call.handover, **{key: str(value)[:200] for key, value in fields.items()}}
    _event(call, "handover", str(fields.get("status", "")))
    call.save(update_fields=["handover", "timeline"])
    return call


PHONE_FIELDS = ("mode", "voices", "consent_notice", "recording", "transfer_mode", "handover_number")


def phone_settings_update(*, client: Any, agent: Agent, actor: Any, values: dict[str, Any],
                          ip: str | None = None) -> PhoneSettings:
    """Save how the agent answers the phone. Owners and admins only; audited (the fields that changed)."""
    from apps.audit.services import audit_record
    from apps.clients.services import manager_require

    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    with transaction.atomic():
        stored, _created = PhoneSettings.objects.select_for_update().get_or_create(agent=agent)
        changed = [field for field in PHONE_FIELDS if field in values and getattr(stored, field) != values[field]]
        for field in changed:
            setattr(stored, field, values[field])
        stored.save()
        if changed:
            audit_record(action="agent.phone_updated", actor=actor, target=agent.name, ip=ip,
                         data={"fields": changed})
    return stored
