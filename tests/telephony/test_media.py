"""Media Streams end to end: signed webhooks, a signed socket, messages shaped like Twilio's, espeak-ng speech as
μ-law frames in, the agent's μ-law frames out (the offline twins: pocketsphinx hears English, espeak-ng speaks)."""

from __future__ import annotations

import asyncio
import base64
import statistics

import httpx
import numpy as np
import pytest
from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.calls.models import PhoneSettings
from apps.conversations.models import Message
from apps.telephony.media import PACING, frames_of
from apps.telephony.simulator import CallerSimulator
from apps.voice.audio import MULAW_DECODE, mulaw_decode, mulaw_encode, rms
from tests.telephony.conftest import calls_of
from tests.telephony.test_usage_and_events import _ledger

LISTEN_URL = "https://api.deepgram.com/v1/listen"
TWO_SENTENCES = "Hello, Phone Bravo here. How can I help you today?"


def _messages(client, conversation_id):
    with tenant_context(client):
        return list(Message.objects.filter(conversation_id=conversation_id).order_by("id").values_list("role", "text",
                                                                                                      "complete"))


def _media_mode(client, agent_id, *, greeting=None, language=None):
    with tenant_context(client):
        PhoneSettings.objects.update_or_create(agent_id=agent_id, defaults={"mode": "media", "consent_notice": False})
        agent = Agent.objects.get(pk=agent_id)
        if greeting is not None:
            agent.texts = {**agent.texts, "en": {"greeting": greeting}}
        if language is not None:
            agent.default_language = language
        agent.save()


@pytest.fixture
def media(phones):
    _media_mode(phones.client_b, phones.agent_b.pk)
    _media_mode(phones.client_a, phones.agent_a.pk, language="en")
    return phones


async def _caller(number, **kwargs):
    caller = CallerSimulator(to=number)
    twiml = await caller.dial()
    assert twiml.socket_kind == "media"
    assert await caller.media_open(**kwargs)
    return caller


# The codec --------------------------------------------------------------------------------------------------

def test_mulaw_matches_g711_reference_values():
    # ITU-T G.711 μ-law (Sun's reference g711.c): decoding every code, and encoding around segment edges
    decoded = {0x00: -32124, 0x0F: -16764, 0x10: -15996, 0x7E: -8, 0x7F: 0, 0x80: 32124, 0xBF: 1980, 0xEF: 132,
               0xFE: 8, 0xFF: 0}
    assert {code: int(MULAW_DECODE[code]) for code in decoded} == decoded
    encoded = {0: 0xFF, 31: 0xFB, -33: 0x7A, 100: 0xF2, -100: 0x72, 1000: 0xCE, -1000: 0x4E, 4000: 0xAF,
               -4000: 0x2F, 8159: 0x9F, 16000: 0x90, -16000: 0x10, 32124: 0x80, 32767: 0x80, -32768: 0x00}
    pcm = np.array(list(encoded), dtype="<i2").tobytes()
    assert list(mulaw_encode(pcm)) == list(encoded.values())


def test_mulaw_round_trips_every_code_and_stays_close_to_the_signal():
    codes = bytes(range(256))
    again = mulaw_encode(mulaw_decode(codes))
    assert [c for c, d in zip(codes, again, strict=True) if c != d] == [0x7F]  # μ-law's two zeros become one
    tone = (np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000) * 12000).astype("<i2")
    back = np.frombuffer(mulaw_decode(mulaw_encode(tone.tobytes())), dtype="<i2").astype(np.float64)
    error = np.abs(back - tone) / np.maximum(np.abs(tone), 64)
    assert float(np.percentile(error, 99)) < 0.07  # 8-bit logarithmic: a few percent, never more
    assert len(frames_of(tone.tobytes(), 8000)) == 50 and all(len(f) == 160 for f in frames_of(tone.tobytes(), 8000))


# The call ---------------------------------------------------------------------------------------------------

async def test_it_answers_in_media_streams_greets_in_paced_frames_and_marks(media):
    await sync_to_async(_media_mode)(media.client_b, media.agent_b.pk, greeting=TWO_SENTENCES)
    caller = CallerSimulator(to=media.number_b)
    twiml = await caller.dial()
    assert twiml.verbs[:3] == ["Response", "Connect", "Stream"]
    assert twiml.socket_url == f"ws://localhost:8000/ws/twilio/media/{media.number_b[1:]}/"
    assert twiml.parameters["token"] and twiml.parameters["language"] == "en"
    assert await caller.media_open()
    PACING.reset()
    heard = await caller.media_until_quiet()
    # two sentences: frames of 160 bytes of speech, a mark after each
    outgoing = [m for m in caller.received if m.get("event") in ("media", "mark")]
    assert all(m["streamSid"] == caller.stream_sid for m in outgoing)
    assert [m["event"] for m in outgoing].count("mark") == 2 and outgoing[-1]["event"] == "mark"
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in outgoing if m["event"] == "media")
    assert heard.frames > 50 and rms(mulaw_decode(bytes(heard.audio))) > 300
    # paced in real time: ~20 ms apart, never a burst
    gaps = np.diff(heard.arrivals)
    assert 0.017 < statistics.median(gaps) < 0.023
    assert heard.arrivals[-1] - heard.arrivals[0] >= 0.9 * 0.02 * (heard.frames - 1)
    assert PACING.late <= PACING.frames * 0.05  # a loaded machine may stall the loop now and then
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_b)
    assert call.mode == "media" and call.ended_at is not None and call.end_reason == "socket-closed"
    transcript = await sync_to_async(_messages)(media.client_b, call.conversation_id)
    assert transcript[0] == ("assistant", TWO_SENTENCES, True)  # both marks echoed: heard whole


async def test_the_callers_speech_is_recognised_answered_and_timed(media):
    caller = await _caller(media.number_b)
    await caller.media_until_quiet()  # the greeting
    await caller.media_speak("where are you located", paced=False)
    heard_before = caller.heard.frames
    await caller.media_until_quiet()
    assert caller.heard.frames > heard_before  # the reply, spoken
    await caller.hangup(duration=61)
    [call] = await sync_to_async(calls_of)(media.client_b)
    transcript = await sync_to_async(_messages)(media.client_b, call.conversation_id)
    users = [text for role, text, _c in transcript if role == "user"]
    assert users == ["where are you located"]
    assert [role for role, _t, _c in transcript][-1] == "assistant"
    [turn] = call.turns
    assert all(isinstance(turn[key], int) for key in ("recognition_ms", "engine_ms", "speech_ms"))
    assert call.duration_s == 61 and call.minutes_counted == 2 and call.status == "completed"
    # billed and told like a ConversationRelay call: the usage ledger, call.started / call.ended
    records, events = await sync_to_async(_ledger)(media.client_b)
    # the dropped socket counted the minute begun, Twilio's final duration (61 s) the second: each once
    assert sorted(records) == [(f"call:{caller.call_sid}:1", 1), (f"call:{caller.call_sid}:2", 1)]
    assert [kind for kind, _data in events] == ["call.started", "call.ended"]
    assert events[1][1]["call_sid"] == caller.call_sid and events[1][1]["duration_s"] == 61
    assert await sync_to_async(_ledger)(media.client_a) == ([], [])


async def test_barge_in_clears_and_keeps_only_what_was_heard(media):
    await sync_to_async(_media_mode)(media.client_b, media.agent_b.pk, greeting=TWO_SENTENCES)
    caller = await _caller(media.number_b)
    while not caller.heard.marks:  # the first sentence played and its mark echoed
        await caller.media_collect(0.05)
    await caller.media_collect(0.1)  # the second sentence is playing
    frames_before = caller.heard.frames
    await caller.media_speak("hello", paced=False)  # the caller speaks over the agent
    await caller.media_collect(0.3)
    assert caller.heard.clears >= 1
    clear_at = next(n for n, m in enumerate(caller.received) if m.get("event") == "clear")
    assert caller.received[clear_at] == {"event": "clear", "streamSid": caller.stream_sid}
    await caller.media_until_quiet()
    await caller.drop()
    assert caller.heard.frames > frames_before
    [call] = await sync_to_async(calls_of)(media.client_b)
    transcript = await sync_to_async(_messages)(media.client_b, call.conversation_id)
    assert transcript[0] == ("assistant", "Hello, Phone Bravo here.", False)
    assert ("event", "interrupted", True) in transcript
    assert any(event["event"] == "interrupt" for event in call.timeline)


async def test_speaking_over_the_greeting_before_any_mark_keeps_nothing_of_it(media):
    caller = await _caller(media.number_b)
    while caller.heard.frames < 5:
        await caller.media_collect(0.02, echo_marks=False)
    await caller.media_speak("hello", paced=False)
    await caller.media_collect(0.3)
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_b)
    transcript = await sync_to_async(_messages)(media.client_b, call.conversation_id)
    assert transcript[0] == ("assistant", "", False)


async def test_dtmf_is_a_turn_and_noted(media):
    caller = await _caller(media.number_b)
    await caller.media_until_quiet()
    frames = caller.heard.frames
    await caller.media_dtmf("1")
    await caller.media_dtmf("A; DROP")  # not a key: ignored
    await caller.media_until_quiet()
    assert caller.heard.frames > frames
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_b)
    assert [e["detail"] for e in call.timeline if e["event"] == "dtmf"] == ["1"]
    users = [t for r, t, _c in await sync_to_async(_messages)(media.client_b, call.conversation_id) if r == "user"]
    assert users == ["1"]


async def test_a_dropped_socket_mid_reply_finalises_the_call_and_frees_its_slot(media):
    from apps.telephony.slots import slots_used

    caller = await _caller(media.number_b)
    await caller.media_collect(0.2)
    assert await sync_to_async(slots_used)(client_id=media.client_b.pk) == 1
    await caller.drop()  # while the greeting plays
    [call] = await sync_to_async(calls_of)(media.client_b)
    assert call.ended_at is not None and call.end_reason == "socket-closed" and call.status == "completed"
    assert call.conversation.ended is not None
    assert await sync_to_async(slots_used)(client_id=media.client_b.pk) == 0
    twiml = await caller.relay_action()  # Twilio then asks the <Connect action>: the call is over
    assert twiml.hangs_up


async def test_a_stop_message_ends_the_stream_and_the_call(media):
    caller = await _caller(media.number_b)
    await caller.media_collect(0.1)
    await caller.media_stop()
    heard = await caller.media_collect(3)
    assert heard.closed
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_b)
    assert call.ended_at is not None and call.end_reason == "stream-stopped"


async def test_a_french_call_heard_by_the_agencys_recogniser_hands_over_and_the_action_transfers(
        media, settings, respx_mock):
    # French on the phone needs a cloud recogniser (the offline one hears English only): Deepgram, its API mocked
    await sync_to_async(_media_mode)(media.client_a, media.agent_a.pk, language="fr")
    settings.VOICE_STT = "deepgram"
    settings.VOICE = {**settings.VOICE, "deepgram_api_key": "dg-agency"}
    heard_route = respx_mock.post(LISTEN_URL).mock(return_value=httpx.Response(200, json={
        "metadata": {"request_id": "f0e1", "duration": 1.9, "channels": 1},
        "results": {"channels": [{"alternatives": [{"transcript": "Je veux parler à un humain, s'il vous plaît.",
                                                     "confidence": 0.96, "words": []}]}]}}))
    caller = await _caller(media.number_a)
    await caller.media_until_quiet()
    await caller.media_speak("Je veux parler à un humain", language="fr", paced=False)
    heard = await caller.media_until_quiet(timeout=40)
    assert heard.closed  # once the reply was heard, we closed the stream
    assert heard_route.calls.last.request.url.params["language"] == "fr"
    assert heard_route.calls.last.request.headers["Content-Type"] == "audio/wav"
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_a)
    assert call.ended_at is None and call.handover["status"] == "requested"
    users = [t for r, t, _c in await sync_to_async(_messages)(media.client_a, call.conversation_id) if r == "user"]
    assert users == ["Je veux parler à un humain, s'il vous plaît."]
    twiml = await caller.relay_action()
    assert twiml.dial.get("number") == "+33100000000"
    [call] = await sync_to_async(calls_of)(media.client_a)
    assert call.handover["status"] == "dialing" and call.handover["mode"] == "cold"


async def test_a_language_without_a_recogniser_is_told_so_and_the_keypad_still_works(media):
    await sync_to_async(_media_mode)(media.client_a, media.agent_a.pk, language="fr")
    caller = await _caller(media.number_a)
    await caller.media_until_quiet()
    frames = caller.heard.frames
    await caller.media_speak("Bonjour", language="fr", paced=False)
    await caller.media_until_quiet()
    assert caller.heard.frames > frames  # the apology, spoken
    await caller.media_dtmf("1")
    await caller.media_until_quiet()
    await caller.drop()
    [call] = await sync_to_async(calls_of)(media.client_a)
    users = [t for r, t, _c in await sync_to_async(_messages)(media.client_a, call.conversation_id) if r == "user"]
    assert users == ["1"]


async def test_a_forged_handshake_or_token_is_refused_and_writes_nothing(media):
    caller = CallerSimulator(to=media.number_b)
    await caller.dial()
    assert not await caller.media_open(signature="forged")
    assert not await caller.media_open(signature=CallerSimulator(to=media.number_b, token="wrong").sign(
        f"ws://localhost:8000/ws/twilio/media/{media.number_b[1:]}/", {}))
    for token, call_sid in (("not-a-token", None), ("", None), (caller.twiml.parameters["token"], "CA" + "f" * 32)):
        assert await caller.media_open(token=token, call_sid=call_sid)
        assert (await caller.socket.receive_output(5))["type"] == "websocket.close"
    # a format we do not speak is refused too
    assert await caller.socket_open()
    await caller.send({"event": "start", "streamSid": "MZ1", "start": {
        "callSid": caller.call_sid, "customParameters": dict(caller.twiml.parameters),
        "mediaFormat": {"encoding": "audio/x-l16", "sampleRate": 16000, "channels": 1}}})
    assert (await caller.socket.receive_output(5))["type"] == "websocket.close"
    [call] = await sync_to_async(calls_of)(media.client_b)
    assert call.ended_at is None and call.turns == []
    transcript = await sync_to_async(_messages)(media.client_b, call.conversation_id)
    assert [role for role, _t, _c in transcript] == ["assistant"]  # the greeting, nothing else


async def test_bad_media_messages_are_ignored_and_ten_malformed_close(media):
    caller = await _caller(media.number_b)
    for payload in ("%%%not base64", "A" * 10_000, 42, None):
        await caller.send({"event": "media", "streamSid": caller.stream_sid,
                           "media": {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": payload}})
    await caller.send({"event": "media", "streamSid": "MZ-someone-else", "media": {"payload": "//8="}})
    await caller.send({"event": "mark", "streamSid": caller.stream_sid, "mark": {"name": "never-sent"}})
    heard = await caller.media_until_quiet()
    assert not heard.closed and heard.frames > 0  # the greeting still plays
    for _n in range(10):
        await caller.socket.send_to(text_data="\x00{not json")
    assert (await caller.socket.receive_output(5))["type"] in ("websocket.close", "websocket.send")
    await caller.drop()


async def test_two_clients_calls_interleaved_never_read_each_others_data(media):
    a, b = await asyncio.gather(_caller(media.number_a), _caller(media.number_b))
    await asyncio.gather(a.media_until_quiet(), b.media_until_quiet())
    await asyncio.gather(a.media_speak("do you have parking"), b.media_speak("what is your address"))
    await asyncio.gather(a.media_until_quiet(), b.media_until_quiet())
    assert {m["streamSid"] for m in a.received if "streamSid" in m} == {a.stream_sid}
    assert {m["streamSid"] for m in b.received if "streamSid" in m} == {b.stream_sid}
    await asyncio.gather(a.hangup(), b.hangup())
    [call_a], [call_b] = await sync_to_async(calls_of)(media.client_a), await sync_to_async(calls_of)(media.client_b)
    said_a = [t for r, t, _c in await sync_to_async(_messages)(media.client_a, call_a.conversation_id) if r == "user"]
    said_b = [t for r, t, _c in await sync_to_async(_messages)(media.client_b, call_b.conversation_id) if r == "user"]
    assert said_a == ["do you have parking"] and said_b == ["what is your address"]
    # A's number with B's token and call sid: refused
    c = CallerSimulator(to=media.number_a)
    await c.dial()
    assert await c.media_open(token=b.twiml.parameters["token"], call_sid=b.call_sid)
    assert (await c.socket.receive_output(5))["type"] == "websocket.close"



def test_call_simulate_speaks_through_media_streams(media, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out, wav = StringIO(), tmp_path / "agent.wav"
    call_command("call_simulate", number=media.number_b, say=["where are you located"], lang="en-US",
                 wav=str(wav), stdout=out)
    text = out.getvalue()
    assert "caller (espeak-ng): where are you located" in text and "ended" in text
    assert text.count("agent (audio)") == 2 and wav.stat().st_size > 8_000
    [call] = calls_of(media.client_b)
    assert call.mode == "media" and call.ended_at is not None
    assert [t for r, t, _c in _messages(media.client_b, call.conversation_id) if r == "user"] == [
        "where are you located"]
