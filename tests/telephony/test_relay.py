"""ConversationRelay end to end: signed webhooks and a signed socket, payloads shaped like Twilio's."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from apps.calls.models import Call
from apps.clients.models import Client, Plan
from apps.conversations.models import Message
from apps.telephony.simulator import CallerSimulator
from apps.usage.models import UsageCounter
from tests.telephony.conftest import calls_of


def _messages(client, conversation_id):
    with tenant_context(client):
        return list(Message.objects.filter(conversation_id=conversation_id).order_by("id").values_list("role", "text",
                                                                                                      "complete"))


async def test_it_answers_in_conversation_relay_with_a_signed_token(phones):
    caller = CallerSimulator(to=phones.number_a)
    twiml = await caller.dial()
    assert twiml.verbs[:3] == ["Response", "Connect", "ConversationRelay"]
    assert twiml.socket_url == f"ws://localhost:8000/ws/twilio/relay/{phones.number_a[1:]}/"
    assert twiml.attributes["language"] == "fr-FR" and twiml.attributes["interruptible"] == "any"
    assert twiml.attributes["welcomeGreeting"] == "Bonjour, Phone Alpha, que puis-je faire pour vous ?"
    assert {row["code"] for row in twiml.languages} == {"fr-FR", "en-US", "es-ES", "ar-SA", "ar-MA"}
    assert twiml.parameters["token"]
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert (call.call_sid, call.from_number, call.to_number, call.mode, call.status) == (
        caller.call_sid, "+33612345678", phones.number_a, "relay", "in-progress")
    assert call.conversation.channel == "phone" and call.conversation.visitor_phone == "+33612345678"


async def test_it_streams_the_reply_token_by_token_and_keeps_the_transcript(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    assert await caller.relay_open()
    await caller.send({"type": "prompt", "voicePrompt": "Bonjour, quels sont vos horaires ?", "lang": "fr-FR",
                       "last": True})
    messages = await caller.reply()
    texts = [m for m in messages if m["type"] == "text"]
    assert len(texts) > 2 and texts[-1]["last"] is True and all(m["last"] is False for m in texts[:-1])
    assert all(m["lang"] == "fr-FR" and m["interruptible"] is True for m in texts)
    reply = "".join(m["token"] for m in texts)
    await caller.hangup(duration=61)
    [call] = await sync_to_async(calls_of)(phones.client_a)
    transcript = await sync_to_async(_messages)(phones.client_a, call.conversation_id)
    assert transcript[1] == ("user", "Bonjour, quels sont vos horaires ?", True)
    assert [row for row in transcript if row[0] == "assistant"][1] == ("assistant", reply.strip(), True)
    assert call.ended_at is not None and call.duration_s == 61 and call.minutes_counted == 2
    assert len(call.turns) == 1 and call.turns[0]["engine_ms"] is not None
    assert [event["event"] for event in call.timeline][:1] == ["answered"]


async def test_a_partial_prompt_waits_for_the_last_one(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    await caller.send({"type": "prompt", "voicePrompt": "Bonjour", "lang": "fr-FR", "last": False})
    reply = await caller.say("Bonjour, je voudrais un rendez-vous")
    assert reply
    [call] = await sync_to_async(calls_of)(phones.client_a)
    users = [row for row in await sync_to_async(_messages)(phones.client_a, call.conversation_id) if row[0] == "user"]
    assert users == [("user", "Bonjour, je voudrais un rendez-vous", True)]
    await caller.drop()


async def test_an_interrupt_keeps_only_what_the_caller_heard(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    reply = await caller.say("Quels sont vos horaires ?")
    heard = reply.split()[0] + " " + reply.split()[1]
    await caller.interrupt(heard, ms=900)
    await caller.say("Et le samedi ?")
    await caller.drop()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    transcript = await sync_to_async(_messages)(phones.client_a, call.conversation_id)
    first_reply = [row for row in transcript if row[0] == "assistant"][1]
    assert first_reply == ("assistant", heard, False)
    assert ("event", "interrupted", True) in transcript
    assert any(event["event"] == "interrupt" and event["detail"] == "900" for event in call.timeline)


async def test_dtmf_is_a_turn_and_noted(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    assert await caller.dtmf("1")
    await caller.send({"type": "dtmf", "digit": "A; DROP"})  # not a key: ignored
    await caller.send({"type": "error", "description": "Invalid message received: text token missing"})
    await caller.drop()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert any(event["event"] == "dtmf" and event["detail"] == "1" for event in call.timeline)
    assert any(event["event"] == "relay-error" for event in call.timeline)


async def test_the_call_follows_the_callers_language_to_darija(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    await caller.send({"type": "prompt", "voicePrompt": "السلام عليكم، بغيت نعرف واش نتوما حالين نهار السبت؟",
                       "lang": "ar-MA", "last": True})
    messages = await caller.reply()
    switch = [m for m in messages if m["type"] == "language"]
    assert switch == [{"type": "language", "ttsLanguage": "ar-MA", "transcriptionLanguage": "ar-MA"}]
    assert all(m["lang"] == "ar-MA" for m in messages if m["type"] == "text")
    await caller.drop()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.languages == ["fr", "ary"]


async def test_a_dropped_socket_finalises_the_call_and_frees_its_slot(phones):
    from apps.telephony.slots import slots_used

    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    await caller.say("Bonjour")
    assert await sync_to_async(slots_used)(client_id=phones.client_a.pk) == 1
    await caller.drop()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.ended_at is not None and call.end_reason == "socket-closed" and call.status == "completed"
    assert call.conversation.ended is not None
    assert await sync_to_async(slots_used)(client_id=phones.client_a.pk) == 0
    twiml = await caller.relay_action(error="64105")  # Twilio then asks the action URL: the call is over
    assert twiml.hangs_up and twiml.says


async def test_the_calls_summary_is_written_in_the_clients_language(phones):
    """Status callbacks and socket ends run in no member's language: the summary is the business's (bravo: ar)."""
    caller = CallerSimulator(to=phones.number_b)
    await caller.dial()
    await caller.relay_open()
    await caller.say("Hello, what are your opening hours?")
    await caller.drop()
    [call] = await sync_to_async(calls_of)(phones.client_b)
    assert "قال المتصل أولًا" in call.summary and "Hello, what are your opening hours?" in call.summary
    assert "The caller said first" not in call.summary


async def test_a_forged_webhook_is_refused_and_writes_nothing(phones):
    caller = CallerSimulator(to=phones.number_a)
    for signature in ("", "bm90IGEgc2lnbmF0dXJl", CallerSimulator(to=phones.number_a, token="wrong").sign(
            "http://localhost:8000/telephony/twilio/voice", caller.params(CallStatus="ringing"))):
        response = await caller.post("/telephony/twilio/voice", caller.params(CallStatus="ringing"),
                                     signature=signature)
        assert response.status_code == 403 and response.json()["error"]["code"] == "signature_invalid"
    assert await sync_to_async(calls_of)(phones.client_a) == []


async def test_a_forged_handshake_or_token_is_refused(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    assert not await caller.relay_open(signature="forged")
    assert await caller.relay_open(token="not-a-token")
    assert (await caller.socket.receive_output(5))["type"] == "websocket.close"
    other = CallerSimulator(to=phones.number_a)
    await other.dial()
    assert await caller.relay_open(token=other.twiml.parameters["token"])  # another call's token
    assert (await caller.socket.receive_output(5))["type"] == "websocket.close"
    [first, second] = await sync_to_async(calls_of)(phones.client_a)
    assert first.ended_at is None and second.ended_at is None  # nothing finalised, nothing written


async def test_an_unknown_number_hears_a_polite_message(phones):
    caller = CallerSimulator(to="+15550109999")
    twiml = await caller.dial()
    assert twiml.verbs == ["Response", "Say", "Hangup"] and "not in service" in twiml.says[0]


async def test_a_suspended_client_or_a_plan_without_telephony_hears_a_polite_message(phones):
    await sync_to_async(lambda: Client.objects.filter(pk=phones.client_b.pk).update(status=Client.Status.SUSPENDED))()
    from apps.core.redis import get_redis

    await sync_to_async(get_redis().flushdb)()
    twiml = await CallerSimulator(to=phones.number_b).dial()
    assert twiml.verbs == ["Response", "Say", "Hangup"]
    assert twiml.says[0] == "عذرًا، لا يمكننا الرد على مكالمتك الآن. يرجى المحاولة لاحقًا. مع السلامة."  # B speaks ar
    starter = await sync_to_async(lambda: Plan.objects.get(code="starter"))()
    await sync_to_async(lambda: Client.objects.filter(pk=phones.client_a.pk).update(plan=starter))()
    await sync_to_async(get_redis().flushdb)()
    twiml = await CallerSimulator(to=phones.number_a).dial()
    assert twiml.verbs == ["Response", "Say", "Hangup"]
    assert twiml.says[0] == "Sorry, we cannot take your call right now. Please try again later. Goodbye."
    assert await sync_to_async(calls_of)(phones.client_a) == []


async def test_two_clients_calls_interleaved_never_read_each_others_data(phones):
    a, b = CallerSimulator(to=phones.number_a), CallerSimulator(to=phones.number_b)
    await asyncio.gather(a.dial(), b.dial())
    assert all(await asyncio.gather(a.relay_open(), b.relay_open()))
    for n in range(3):
        await asyncio.gather(a.send({"type": "prompt", "voicePrompt": f"alpha question {n}", "lang": "fr-FR",
                                     "last": True}),
                             b.send({"type": "prompt", "voicePrompt": f"bravo question {n}", "lang": "en-US",
                                     "last": True}))
        await asyncio.gather(a.reply(), b.reply())
    await asyncio.gather(a.hangup(), b.hangup())
    [call_a], [call_b] = await sync_to_async(calls_of)(phones.client_a), await sync_to_async(calls_of)(phones.client_b)
    said_a = [t for r, t, _c in await sync_to_async(_messages)(phones.client_a, call_a.conversation_id) if r == "user"]
    said_b = [t for r, t, _c in await sync_to_async(_messages)(phones.client_b, call_b.conversation_id) if r == "user"]
    assert said_a == [f"alpha question {n}" for n in range(3)]
    assert said_b == [f"bravo question {n}" for n in range(3)]
    # a socket of A carrying B's token is refused
    c = CallerSimulator(to=phones.number_a)
    await c.dial()
    assert await c.relay_open(token=b.twiml.parameters["token"], call_sid=b.call_sid)
    assert (await c.socket.receive_output(5))["type"] == "websocket.close"


async def test_status_callbacks_build_the_timeline_and_count_minutes_once(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.status("in-progress")
    await caller.relay_open()
    await caller.say("Bonjour")
    await caller.hangup(duration=125)
    await caller.status("completed", 125)  # Twilio retries: counted once
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.duration_s == 125 and call.minutes_counted == 3
    with_client = sync_to_async(lambda: _minutes(phones.client_a))
    assert await with_client() == 3
    events = [event["event"] for event in call.timeline]
    assert events[0] == "answered" and "in-progress" in events and "completed" in events
    assert call.status == Call.Status.COMPLETED


def _minutes(client):
    with tenant_context(client):
        return sum(UsageCounter.objects.filter(metric="voice_minutes").values_list("value", flat=True))
