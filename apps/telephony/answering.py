"""What a call hears: the services behind Twilio's HTTP webhooks (apps.telephony.views stays thin).

Every function takes a verified `TwilioHook` (its signature already checked) and returns TwiML text. A
call that cannot be served (unknown number, suspended client, plan without telephony, no agent, lines
busy) hears a polite message in the client's language — never an error, never a 500: Twilio would play
its error tone.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.agents.models import LANGUAGE_CODES, Agent
from apps.billing.usage import refusal_message, usage_allowed
from apps.calls.models import Call, Mode, PhoneSettings
from apps.calls.services import (
    call_finalise,
    call_handover_update,
    call_note,
    call_recording_update,
    call_refused,
    call_start,
    call_status_update,
    phone_settings_for,
)
from apps.clients.entitlements import client_may
from apps.clients.models import Client
from apps.core.errors import ProviderError
from apps.outbound.services import call_for_token, outbound_greeting, outbound_no_line, outbound_sorry
from apps.telephony import twiml
from apps.telephony.selectors import NumberRoute, e164_clean
from apps.telephony.slots import slot_acquire, slot_release
from apps.telephony.tokens import call_token_make
from apps.telephony.webhooks import TwilioHook

logger = logging.getLogger(__name__)
CALL_SID_RE = re.compile(r"^CA[0-9a-zA-Z]{32}$")


class CallContext:
    """The client, agent and settings of a call we serve (entered schema: the caller's `tenant_context`)."""

    def __init__(self, route: NumberRoute, agent: Agent, phone: PhoneSettings) -> None:
        self.route, self.agent, self.phone = route, agent, phone
        self.client: Client = route.client  # type: ignore[assignment]


def _language_default() -> str:
    return settings.LANGUAGE_CODE.split("-")[0]


def _polite(text_fn: Any, language: str) -> str:
    with translation.override(language):
        return twiml.say_hangup(str(text_fn()), language)


def _unknown() -> str:
    return _("Sorry, this number is not in service. Goodbye.")


def _unavailable() -> str:
    return _("Sorry, we cannot take your call right now. Please try again later. Goodbye.")


def _call_sid(hook: TwilioHook) -> str:
    sid = hook.get("CallSid")
    return sid if CALL_SID_RE.match(sid) else ""


def _agent_for(route: NumberRoute) -> Agent | None:
    agents = Agent.objects.filter(status=Agent.Status.ACTIVE)
    if route.agent_id is not None:
        return agents.filter(pk=route.agent_id).first()
    return agents.order_by("id").first()


def greeting_for(agent: Agent, language: str) -> str:
    text = agent.text(language, "greeting")
    try:
        return text.format_map({key: value or "" for key, value in agent.placeholders().items()})
    except (KeyError, ValueError, IndexError):
        return text


def _language(agent: Agent, client: Client) -> str:
    return agent.default_language or client.default_language


def _notice(phone: PhoneSettings, client: Client) -> tuple[str, bool]:
    record = phone.recording and client_may(client, "call_recording")
    notice = _("This call is recorded. By staying on the line, you agree.") if record and phone.consent_notice \
        else ""
    return notice, record


def agent_twiml(ctx: CallContext, call: Call, *, language: str, greeting: str, first: bool) -> str:
    """The agent answers (or takes the caller back): the TwiML of its phone mode."""
    notice, record = _notice(ctx.phone, ctx.client) if first else ("", False)
    token = call_token_make(client_id=ctx.client.pk, call_sid=call.call_sid,
                            conversation_id=call.conversation_id or 0)
    if call.mode == Mode.MEDIA:
        return twiml.media(e164=ctx.route.e164, token=token, language=language, notice=notice, record=record)
    if call.mode == Mode.GATHER:
        return twiml.gather(text=greeting or "…", language=language, notice=notice, record=record)
    return twiml.relay(e164=ctx.route.e164, token=token, language=language,
                       languages_offered=list(ctx.agent.languages or []), greeting=greeting,
                       voices=dict(ctx.phone.voices or {}), notice=notice, record=record)


def _served(route: NumberRoute | None) -> tuple[Client | None, str]:
    """The client whose agent may answer, or None and the polite refusal."""
    if route is None or route.client is None:
        return None, _polite(_unknown, _language_default())
    client = route.client
    if client.status != Client.Status.ACTIVE or not client_may(client, "voice_telephony"):
        return None, _polite(_unavailable, client.default_language)
    return client, ""


def voice_answer(hook: TwilioHook, *, outbound: str = "") -> str:
    """/telephony/twilio/voice: the number's client and agent answer in the agent's mode. `outbound` is the signed
    token of a call the agent placed (apps/outbound), redirected here once a person answered: the call is then
    recorded as outgoing, to that person, and the agent opens by saying why it calls."""
    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    if not usage_allowed(kind="call_minute", client=client):  # the cap, before the call is answered
        with translation.override(client.default_language):
            return twiml.say_hangup(refusal_message("voice_minutes"), client.default_language)
    route: NumberRoute = hook.route  # type: ignore[assignment]
    call_sid = _call_sid(hook)
    with tenant_context(client):
        placed = call_for_token(token=outbound, schema=client.schema_name) if outbound else None
        agent = (placed.agent if placed is not None and placed.agent is not None else None) or _agent_for(route)
        if agent is None or not call_sid:
            return _polite(_unavailable, client.default_language)
        language = _language(agent, client)
        if placed is not None and placed.language in (agent.languages or []):
            language = placed.language
        with translation.override(language):
            caller = placed.to if placed is not None else (e164_clean(hook.get("From")) or hook.get("From")[:32])
            if not slot_acquire(client_id=client.pk, call_sid=call_sid, cap=client.plan.concurrent_calls):
                if placed is not None:  # our own call and no line free: hang up politely, try again later
                    outbound_no_line(call=placed)
                    return twiml.say_hangup(outbound_sorry(call=placed), language)
                call_refused(call_sid=call_sid, agent=agent, from_number=caller, to_number=route.e164, reason="busy")
                return twiml.busy_offer(
                    _("All our lines are busy right now. Press 1 or say yes, and we will call you back."),
                    language, goodbye=_("Please call again later. Goodbye."))
            phone = phone_settings_for(agent)
            greeting = outbound_greeting(call=placed, agent=agent) if placed is not None \
                else greeting_for(agent, language)
            try:
                if placed is not None:
                    call = call_start(call_sid=call_sid, agent=agent, from_number=route.e164, to_number=placed.to,
                                      mode=phone.mode, language=language, greeting=greeting,
                                      direction=Call.Direction.OUTBOUND, visitor=placed.to)
                else:
                    call = call_start(call_sid=call_sid, agent=agent, from_number=caller, to_number=route.e164,
                                      mode=phone.mode, language=language, greeting=greeting)
            except Exception:
                slot_release(client_id=client.pk, call_sid=call_sid)
                raise
            return agent_twiml(CallContext(route, agent, phone), call, language=language, greeting=greeting,
                               first=True)


def _ctx_and_call(hook: TwilioHook) -> tuple[CallContext, Call] | None:
    """Inside the client's schema: the call this request is about, and its agent's settings."""
    call = Call.objects.select_related("agent", "conversation").filter(call_sid=_call_sid(hook)).first()
    if call is None or call.agent is None:
        return None
    return CallContext(hook.route, call.agent, phone_settings_for(call.agent)), call  # type: ignore[arg-type]


def _call_language(call: Call, client: Client) -> str:
    if call.conversation is not None:
        state = call.conversation.state if isinstance(call.conversation.state, dict) else {}
        return str(state.get("language") or call.conversation.language)
    return client.default_language


def _handover_number(ctx: CallContext) -> str:
    return e164_clean(ctx.phone.handover_number) or e164_clean(ctx.agent.handover_phone)


def transfer_twiml(ctx: CallContext, call: Call, *, language: str, summary: str = "") -> str:
    """Put the caller through to the agent's hand-over number: cold (<Dial action>) or warm (a conference; the
    person first hears a summary). Without a number, the agent says so and offers a callback."""
    to = _handover_number(ctx)
    if not to:
        call_handover_update(call_sid=call.call_sid, status="no-number")
        return _back_to_agent(ctx, call, language=language)
    if ctx.phone.transfer_mode == PhoneSettings.Transfer.WARM:
        room = f"handover-{call.call_sid}"
        whisper_url = twiml.url("telephony-whisper", f"call={call.call_sid}")
        status_url = twiml.url("telephony-whisper-status", f"call={call.call_sid}")
        try:
            leg = hook_provider(ctx).call_place(to=to, from_number=ctx.route.e164, answer_url=whisper_url,
                                                status_callback=status_url)
        except ProviderError as error:
            logger.warning("warm transfer for %s failed: %s", call.call_sid, error.message)
            call_handover_update(call_sid=call.call_sid, mode="warm", to=to, status="failed")
            return _back_to_agent(ctx, call, language=language)
        call_handover_update(call_sid=call.call_sid, mode="warm", to=to, status="dialing", leg=leg.provider_call_id,
                             summary=summary)
        return twiml.conference_wait(room=room, text=_("Please hold, I am putting you through."), language=language)
    call_handover_update(call_sid=call.call_sid, mode="cold", to=to, status="dialing")
    return twiml.dial_cold(to=to, caller_id=ctx.route.e164, text=_("Please hold, I am putting you through."),
                           language=language)


def hook_provider(ctx: CallContext) -> Any:
    from apps.telephony.webhooks import signing_provider

    provider = signing_provider(ctx.route)
    if provider is None:
        raise ProviderError("no telephony account owns this number", permanent=True)
    return provider


def _back_to_agent(ctx: CallContext, call: Call, *, language: str) -> str:
    """The person did not answer: the agent takes the caller back, says so and offers a callback."""
    from apps.conversations.models import Message
    from apps.conversations.services import message_add

    text = _("The person I tried to reach is not available right now. I can arrange for them to call you back: "
             "would you like that?")
    if call.conversation is not None:
        message_add(conversation=call.conversation, role=Message.Role.ASSISTANT, text=text, provider="handover")
    slot_acquire(client_id=ctx.client.pk, call_sid=call.call_sid, cap=ctx.client.plan.concurrent_calls + 1)
    return agent_twiml(ctx, call, language=language, greeting=text, first=False)


def relay_action(hook: TwilioHook) -> str:
    """<Connect action>: the socket session is over. HandoffData says why: a transfer, or the end."""
    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    with tenant_context(client):
        found = _ctx_and_call(hook)
        if found is None:
            return twiml.hangup()
        ctx, call = found
        language = _call_language(call, client)
        with translation.override(language):
            try:
                handoff = json.loads(hook.get("HandoffData") or "{}")
            except ValueError:
                handoff = {}
            handoff = handoff if isinstance(handoff, dict) else {}
            if not handoff and call.mode == Mode.MEDIA and (call.handover or {}).get("status") == "requested":
                # a Media Streams socket has no HandoffData: the consumer noted the hand-over, then closed
                handoff = {"reason": "handover", "summary": call.handover.get("summary", "")}
            if handoff.get("reason") == "handover" and call.ended_at is None:
                return transfer_twiml(ctx, call, language=language, summary=str(handoff.get("summary") or ""))
            error = hook.get("ErrorCode")
            call_finalise(call_sid=call.call_sid, client_id=client.pk,
                          reason=f"socket-error:{error}" if error else "relay-ended")
            if error:
                return twiml.say_hangup(_("Sorry, the line was cut. Please call again. Goodbye."), language)
            return twiml.hangup()


def dial_action(hook: TwilioHook) -> str:
    """<Dial action>: how the transfer went. Busy, no answer, failed: the caller comes back to the agent."""
    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    with tenant_context(client):
        found = _ctx_and_call(hook)
        if found is None:
            return twiml.hangup()
        ctx, call = found
        status = hook.get("DialCallStatus") or hook.get("CallStatus")
        language = _call_language(call, client)
        with translation.override(language):
            handover = call.handover or {}
            if status in ("completed", "answered") and handover.get("status") != "failed":
                call_handover_update(call_sid=call.call_sid, status="answered")
                call_finalise(call_sid=call.call_sid, client_id=client.pk, reason="transferred")
                return twiml.hangup()
            call_handover_update(call_sid=call.call_sid, status=status or "failed")
            return _back_to_agent(ctx, call, language=language)


def whisper(hook: TwilioHook, call_sid: str) -> str:
    """Warm transfer, the person's leg: the summary first, then the conference with the caller."""
    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    with tenant_context(client):
        call = Call.objects.select_related("conversation").filter(call_sid=call_sid).first()
        if call is None:
            return twiml.hangup()
        language = _call_language(call, client)
        with translation.override(language):
            summary = call.handover.get("summary") or call.summary or ""
            text = _("A caller from %(number)s asks for you. %(summary)s") % {
                "number": " ".join(call.from_number), "summary": summary}
            call_handover_update(call_sid=call.call_sid, status="briefed")
            return twiml.whisper(room=f"handover-{call.call_sid}", summary=text, language=language)


def whisper_status(hook: TwilioHook, call_sid: str) -> str:
    """The person's leg did not answer: the caller, waiting in the conference, is taken back to the agent."""
    client, _refusal = _served(hook.route)
    status = hook.get("CallStatus")
    if client is None or status not in ("busy", "no-answer", "failed", "canceled"):
        return twiml.empty()
    with tenant_context(client):
        call = Call.objects.select_related("agent", "conversation").filter(call_sid=call_sid).first()
        if call is None or call.agent is None or call.ended_at is not None:
            return twiml.empty()
        ctx = CallContext(hook.route, call.agent, phone_settings_for(call.agent))  # type: ignore[arg-type]
        call_handover_update(call_sid=call.call_sid, status=status)
        language = _call_language(call, client)
        with translation.override(language):
            back = _back_to_agent(ctx, call, language=language)
            try:
                hook_provider(ctx).call_redirect(provider_call_id=call.call_sid, twiml=back)
            except ProviderError as error:
                logger.warning("could not take %s back to the agent: %s", call.call_sid, error.message)
        return twiml.empty()


def status_callback(hook: TwilioHook) -> str:
    """statusCallback: initiated / ringing / answered / completed (busy, no-answer…) → the call's timeline."""
    route = hook.route
    if route is None or route.client is None:
        return twiml.empty()
    duration = hook.get("CallDuration")
    with tenant_context(route.client):
        call_status_update(call_sid=_call_sid(hook), client_id=route.client.pk, status=hook.get("CallStatus")[:16],
                           duration_s=int(duration) if duration.isdigit() and len(duration) < 7 else None,
                           detail=hook.get("Timestamp")[:40])
    return twiml.empty()


def recording_callback(hook: TwilioHook) -> str:
    route = hook.route
    if route is None or route.client is None:
        return twiml.empty()
    duration = hook.get("RecordingDuration")
    sid = hook.get("RecordingSid")
    if not re.match(r"^RE[0-9a-zA-Z]{32}$", sid):
        return twiml.empty()
    with tenant_context(route.client):
        call_recording_update(call_sid=_call_sid(hook), recording_sid=sid,
                              status=hook.get("RecordingStatus")[:16],
                              duration_s=int(duration) if duration.isdigit() and len(duration) < 7 else None)
    return twiml.empty()


def gather_turn(hook: TwilioHook) -> str:
    """<Gather input="speech"> posted what the caller said: one engine turn, answered by <Say> in a new Gather."""
    from apps.agents.engine import HandOver, TurnDone, turn_run

    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    with tenant_context(client):
        found = _ctx_and_call(hook)
        if found is None or found[1].conversation is None or found[1].ended_at is not None:
            return twiml.hangup()
        ctx, call = found
        language = _call_language(call, client)
        said = (hook.get("SpeechResult") or hook.get("Digits")).strip()[:1000]
        with translation.override(language):
            if not said:
                return twiml.gather(text=_("Sorry, I did not catch that. Could you say it again?"), language=language)
            events = turn_run(client=client, conversation_id=call.conversation.pk, text=said)
            reply = next((event.text for event in events if isinstance(event, TurnDone)), "")
            language = _call_language(Call.objects.select_related("conversation").get(pk=call.pk), client)
            handover = next((event for event in events if isinstance(event, HandOver)), None)
            from apps.calls.services import call_turn_record

            done = next((event for event in events if isinstance(event, TurnDone)), None)
            call_turn_record(call_sid=call.call_sid, recognition_ms=None,
                             engine_ms=done.latency_ms if done else None, speech_ms=None, language=language)
            if handover is not None:
                return transfer_twiml(ctx, call, language=language, summary=reply)
            ended = call.conversation.ended is not None or any(type(event).__name__ == "Ended" for event in events)
            return twiml.gather(text=reply or "…", language=language, hangup_after=ended)


@transaction.atomic
def callback_accept(hook: TwilioHook, language: str) -> str:
    """The busy message's offer: 1 or 'yes' schedules a callback to the caller's number."""
    from django.utils import timezone

    from apps.crm.services import callback_schedule

    client, refusal = _served(hook.route)
    if client is None:
        return refusal
    digits, speech = hook.get("Digits"), hook.get("SpeechResult").lower()
    accepted = digits == "1" or any(word in speech for word in ("yes", "oui", "sí", "si", "نعم", "اه", "واخا"))
    caller = e164_clean(hook.get("From"))
    language = language if language in LANGUAGE_CODES else client.default_language
    with translation.override(language):
        if not accepted or not caller:
            return twiml.say_hangup(_("Please call again later. Goodbye."), language)
        with tenant_context(client):
            callback_schedule(phone=caller, due_at=timezone.now(), reason=_("All lines were busy when they called."))
            call_note(call_sid=_call_sid(hook), event="callback", detail="scheduled")
        return twiml.say_hangup(_("Thank you, we will call you back soon. Goodbye."), language)
