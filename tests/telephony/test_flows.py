"""Transfers, the concurrency cap, the Gather fallback and recordings, through the real endpoints."""

from __future__ import annotations

from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from apps.calls.models import PhoneSettings
from apps.clients.models import Plan
from apps.crm.models import Callback
from apps.integrations.telephony.memory import MemoryTelephony
from apps.telephony.simulator import CallerSimulator
from apps.telephony.slots import slots_used
from tests.telephony.conftest import calls_of


def _settings(client, agent, **fields):
    with tenant_context(client):
        PhoneSettings.objects.update_or_create(agent=agent, defaults=fields)


async def _handed_over(phones, caller):
    await caller.dial()
    await caller.relay_open()
    await caller.send({"type": "prompt", "voicePrompt": "Je veux parler à un humain, s'il vous plaît",
                       "lang": "fr-FR", "last": True})
    messages = await caller.reply()
    end = [m for m in messages if m["type"] == "end"]
    assert end and '"reason": "handover"' in end[0]["handoffData"], messages
    await caller.drop()  # Twilio closes the socket after `end`, then asks the <Connect action>
    return await caller.relay_action(handoff=end[0]["handoffData"])


async def test_a_cold_transfer_dials_the_handover_number_and_busy_comes_back_to_the_agent(phones):
    caller = CallerSimulator(to=phones.number_a)
    twiml = await _handed_over(phones, caller)
    assert twiml.dial["number"] == "+33100000000" and twiml.dial["action"].endswith("/telephony/twilio/dial/action")
    assert twiml.dial["callerId"] == phones.number_a and twiml.says  # "please hold"
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.ended_at is None and call.handover["status"] == "dialing"  # the socket closing did not end it
    back = await caller.dial_result("busy")
    assert back.socket_kind == "relay" and "pas disponible" in back.attributes["welcomeGreeting"]
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.handover["status"] == "busy"
    assert await caller.relay_open()  # the agent takes the caller back, with a fresh token
    assert await caller.say("Oui, rappelez-moi")
    await caller.hangup()


async def test_a_cold_transfer_no_answer_comes_back_and_answered_ends_the_call(phones):
    caller = CallerSimulator(to=phones.number_a)
    await _handed_over(phones, caller)
    back = await caller.dial_result("no-answer")
    assert back.socket_kind == "relay"
    other = CallerSimulator(to=phones.number_a)
    await _handed_over(phones, other)
    done = await other.dial_result("completed")
    assert done.hangs_up
    calls = {call.call_sid: call for call in await sync_to_async(calls_of)(phones.client_a)}
    assert calls[other.call_sid].handover["status"] == "answered" and calls[other.call_sid].ended_at is not None
    assert calls[other.call_sid].end_reason == "transferred"


async def test_a_warm_transfer_briefs_the_person_then_joins_them(phones):
    await sync_to_async(_settings)(phones.client_a, phones.agent_a, transfer_mode="warm")
    caller = CallerSimulator(to=phones.number_a)
    twiml = await _handed_over(phones, caller)
    room = f"handover-{caller.call_sid}"
    assert twiml.dial["conference"] == room
    leg = next(c for c in MemoryTelephony.calls.values() if caller.call_sid in c.get("url", ""))
    assert leg["to"] == "+33100000000" and leg["from"] == phones.number_a
    person = CallerSimulator(to="+33100000000", from_number=phones.number_a)
    response = await person.post(f"/telephony/twilio/whisper?call={caller.call_sid}",
                                 person.params(CallStatus="in-progress", Direction="outbound-api"))
    from apps.telephony.simulator import twiml_parse

    whisper = twiml_parse(response.content.decode())
    assert whisper.verbs == ["Response", "Say", "Dial", "Conference"] and whisper.dial["conference"] == room
    assert "3 3 6 1 2" in whisper.says[0]  # the caller's number, digit by digit


async def test_a_warm_transfer_nobody_answers_takes_the_caller_back(phones):
    await sync_to_async(_settings)(phones.client_a, phones.agent_a, transfer_mode="warm")
    caller = CallerSimulator(to=phones.number_a)
    await _handed_over(phones, caller)
    person = CallerSimulator(to="+33100000000", from_number=phones.number_a)
    await person.post(f"/telephony/twilio/whisper/status?call={caller.call_sid}",
                      person.params(CallStatus="no-answer", Direction="outbound-api"))
    redirected = MemoryTelephony.calls[caller.call_sid]["twiml"]
    assert "<ConversationRelay" in redirected
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.handover["status"] == "no-answer"


async def test_over_the_plans_cap_the_caller_hears_busy_and_may_ask_a_callback(phones):
    await sync_to_async(lambda: Plan.objects.filter(code="telephony").update(concurrent_calls=1))()
    try:
        first = CallerSimulator(to=phones.number_a)
        await first.dial()
        second = CallerSimulator(to=phones.number_a, from_number="+33699999999")
        busy = await second.dial()
        assert "Gather" in busy.verbs and "occupées" in busy.says[0] and busy.attributes["numDigits"] == "1"
        action = urlsplit(busy.attributes["action"])  # Twilio posts to the Gather's action, query and all
        assert action.query == "lang=fr"
        thanks = await second.action(f"{action.path}?{action.query}", Digits="1")
        assert thanks.hangs_up and "rappellerons" in thanks.says[0]
        with_b = await CallerSimulator(to=phones.number_b).dial()  # another client's cap is its own
        assert with_b.socket_kind == "relay"
        await first.relay_open()
        await first.hangup()
        assert await sync_to_async(slots_used)(client_id=phones.client_a.pk) == 0
        third = await CallerSimulator(to=phones.number_a).dial()
        assert third.socket_kind == "relay"
    finally:
        await sync_to_async(lambda: Plan.objects.filter(code="telephony").update(concurrent_calls=2))()
    callbacks = await sync_to_async(lambda: _callbacks(phones.client_a))()
    assert callbacks == ["+33699999999"]


def _callbacks(client):
    with tenant_context(client):
        return list(Callback.objects.values_list("phone", flat=True))


async def test_gather_mode_answers_each_utterance_with_say_in_a_new_gather(phones):
    await sync_to_async(_settings)(phones.client_a, phones.agent_a, mode="gather")
    caller = CallerSimulator(to=phones.number_a)
    twiml = await caller.dial()
    assert twiml.verbs[:3] == ["Response", "Gather", "Say"] and twiml.attributes["input"] == "speech dtmf"
    assert twiml.attributes["language"] == "fr-FR"
    turn = await caller.action("/telephony/twilio/gather", SpeechResult="Quels sont vos horaires ?",
                               Confidence="0.92")
    assert turn.verbs[:3] == ["Response", "Gather", "Say"] and turn.says[0]
    empty = await caller.action("/telephony/twilio/gather")
    assert "compris" in empty.says[0]
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.mode == "gather" and len(call.turns) == 1


async def test_recording_and_consent_follow_the_agents_settings(phones):
    await sync_to_async(_settings)(phones.client_a, phones.agent_a, recording=True, consent_notice=True)
    caller = CallerSimulator(to=phones.number_a)
    twiml = await caller.dial()
    assert twiml.verbs[:4] == ["Response", "Say", "Start", "Recording"] and "enregistré" in twiml.says[0]
    await caller.post("/telephony/twilio/recording", caller.params(
        RecordingSid="RE" + "1" * 32, RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        RecordingStatus="completed", RecordingDuration="42", RecordingChannels="1",
        RecordingSource="StartCallRecording"))
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert (call.recording_sid, call.recording_status, call.recording_duration_s) == ("RE" + "1" * 32, "completed", 42)
