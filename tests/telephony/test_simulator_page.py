"""The dashboard's "Call your agent": a member's socket drives a real ConversationRelay call."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django_tenants.utils import tenant_context

from vocalia.asgi import application


def _cookie(user):
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode()


def _socket(host, cookie):
    return WebsocketCommunicator(application, "/ws/dashboard/phone-simulator/", headers=[
        (b"host", host.encode()), (b"origin", f"http://{host}".encode()), (b"cookie", cookie)])


async def test_a_member_calls_the_agent_from_the_dashboard(phones, session_cast):
    from asgiref.sync import sync_to_async

    from tests.telephony.conftest import calls_of

    cookie = await sync_to_async(_cookie)(session_cast.alice)
    socket = _socket("alpha.localhost", cookie)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "dial"})
    ringing = await socket.receive_json_from(30)
    assert ringing["type"] == "ringing" and ringing["number"] == phones.number_a and ringing["greeting"]
    await socket.send_json_to({"type": "say", "text": "Je veux parler à un humain", "lang": "fr"})
    reply = await socket.receive_json_from(30)
    assert reply["type"] == "reply" and reply["text"]
    transfer = await socket.receive_json_from(30)  # as Twilio: socket closed, <Connect action> → <Dial>
    assert transfer["type"] == "transfer" and transfer["number"] == "+33100000000" and transfer["said"]
    await socket.send_json_to({"type": "transfer_result", "status": "busy"})
    back = await socket.receive_json_from(30)  # the colleague is busy: the caller is back with the agent
    assert back["type"] == "ringing" and back["mode"] == "relay" and back["greeting"]
    await socket.send_json_to({"type": "transfer_result", "status": "busy"})
    assert (await socket.receive_json_from(30))["type"] == "error"  # no transfer in progress any more
    await socket.send_json_to({"type": "say", "text": "Je veux parler à un humain", "lang": "fr"})
    await socket.receive_json_from(30)
    assert (await socket.receive_json_from(30))["type"] == "transfer"
    await socket.send_json_to({"type": "transfer_result", "status": "completed"})
    assert (await socket.receive_json_from(30))["type"] == "ended"
    await socket.disconnect()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.from_number == "+15550100000" and call.conversation.channel == "phone"
    assert call.end_reason == "transferred" and call.handover["status"] == "answered"


async def test_another_clients_member_cannot_open_it(phones, session_cast):
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_cookie)(session_cast.carol)
    connected, _code = await _socket("alpha.localhost", cookie).connect()
    assert not connected


async def test_a_member_calls_a_media_streams_agent_and_hears_it(phones, session_cast):
    """Media Streams mode: the typed text is spoken (espeak-ng → μ-law frames through the real consumer), the
    agent's μ-law frames come back as binary messages."""
    from asgiref.sync import sync_to_async

    from apps.voice.audio import mulaw_decode, rms
    from tests.telephony.conftest import calls_of
    from tests.telephony.test_media import _media_mode, _messages

    await sync_to_async(_media_mode)(phones.client_a, phones.agent_a.pk, language="en")
    cookie = await sync_to_async(_cookie)(session_cast.alice)
    socket = _socket("alpha.localhost", cookie)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "dial"})
    ringing = await socket.receive_json_from(30)
    assert ringing == {"type": "ringing", "mode": "media", "number": phones.number_a, "rate": 8000}
    greeting = await socket.receive_output(30)
    assert greeting["type"] == "websocket.send" and greeting["bytes"] and len(greeting["bytes"]) % 160 == 0
    await socket.send_json_to({"type": "say", "text": "where are you located", "lang": "en"})
    audio, spoken = bytearray(greeting["bytes"]), False
    while True:  # the greeting's frames, then "heard", then the reply's frames until quiet
        output = await socket.receive_output(30)
        if output.get("bytes"):
            audio += output["bytes"]
        elif '"heard"' in (output.get("text") or ""):
            spoken, before = True, len(audio)
        if spoken and len(audio) > before and await socket.receive_nothing(1.5):
            break
    assert rms(mulaw_decode(bytes(audio[before:]))) > 300  # the reply is speech, not silence
    await socket.send_json_to({"type": "hangup"})
    assert (await socket.receive_json_from(30))["type"] == "ended"
    await socket.disconnect()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.mode == "media" and call.ended_at is not None
    users = [t for r, t, _c in await sync_to_async(_messages)(phones.client_a, call.conversation_id) if r == "user"]
    assert users == ["where are you located"]


def _place_callback(phones, session_cast, person: str) -> int:
    """A callback the agent scheduled, due now, placed by the outbound dial (as beat's sweep and a worker do):
    committed, so the twin's ring goes out on the channel layer after the dial's transaction."""
    from datetime import time

    from django.utils import timezone

    from apps.clients.models import Plan
    from apps.crm import services as crm
    from apps.outbound import services as outbound
    from apps.outbound.models import OutboundCall

    Plan.objects.filter(pk=phones.client_a.plan_id).update(
        features=sorted({*phones.client_a.plan.features, "outbound_calls"}))
    phones.client_a.plan.refresh_from_db()
    with tenant_context(phones.client_a):
        rules = outbound.policy()
        rules.start, rules.end, rules.weekdays = time(0, 0), time(23, 59), [0, 1, 2, 3, 4, 5, 6]
        rules.save()
        callback = crm.callback_schedule(phone=person, due_at=timezone.now(), name="Salma",
                                         reason="le devis de votre cuisine")
        call = OutboundCall.objects.get(callback=callback)
        OutboundCall.objects.filter(pk=call.pk).update(status="dialing", language="fr")  # the sweep's claim
        outbound.outbound_dial(call_id=call.pk)
        return call.pk


def _placed_state(phones, call_id: int) -> tuple[str, str, str]:
    from apps.calls.models import Call
    from apps.outbound.models import OutboundCall

    with tenant_context(phones.client_a):
        call = OutboundCall.objects.get(pk=call_id)
        recorded = Call.objects.get(call_sid=call.provider_call_id)
        return call.status, recorded.direction, recorded.to_number


def _placed_clean(phones, plan_features) -> None:
    from apps.clients.models import Plan
    from apps.outbound.models import CallConsent, CallingPolicy, OutboundCall
    from apps.schedule.models import DueWork

    with tenant_context(phones.client_a):
        OutboundCall.objects.all().delete()
        CallConsent.objects.all().delete()
        CallingPolicy.objects.all().delete()
    DueWork.objects.filter(client_id=phones.client_a.pk).delete()
    Plan.objects.filter(pk=phones.client_a.plan_id).update(features=plan_features)


async def test_a_scheduled_callback_rings_the_open_simulator_page_and_the_agent_says_why(phones, session_cast):
    """The telephony twin rings the page of the number that calls; answering runs Twilio's side of the placed
    call through the real answer endpoint, its <Redirect> and the relay consumer: the agent opens with the reason."""
    from asgiref.sync import sync_to_async

    person = "+33612345678"
    features = list(phones.client_a.plan.features)
    cookie = await sync_to_async(_cookie)(session_cast.alice)
    page = _socket("alpha.localhost", cookie)
    other = _socket("bravo.localhost", await sync_to_async(_cookie)(session_cast.carol))
    try:
        assert (await page.connect())[0] and (await other.connect())[0]
        call_id = await sync_to_async(_place_callback)(phones, session_cast, person)
        incoming = await page.receive_json_from(30)
        assert incoming == {"type": "incoming", "from": phones.number_a, "to": person}
        assert await other.receive_nothing(0.5)  # another client's page does not ring
        await page.send_json_to({"type": "answer"})
        answered = await page.receive_json_from(30)
        assert answered["type"] == "ringing", answered
        assert "Salma" in answered["greeting"] and "le devis de votre cuisine" in answered["greeting"]
        assert await sync_to_async(_placed_state)(phones, call_id) == ("answered", "outbound", person)
        await page.send_json_to({"type": "say", "text": "Oui, je vous écoute", "lang": "fr"})
        reply = await page.receive_json_from(30)
        assert reply["type"] == "reply" and reply["text"]
        await page.send_json_to({"type": "hangup"})
        assert (await page.receive_json_from(30))["type"] == "ended"
        status, _direction, _to = await sync_to_async(_placed_state)(phones, call_id)
        assert status == "done"
        await page.send_json_to({"type": "answer"})  # nothing rings any more
        assert (await page.receive_json_from(30))["type"] == "error"
    finally:
        await page.disconnect()
        await other.disconnect()
        await sync_to_async(_placed_clean)(phones, features)


def _placed_status(phones, call_id: int) -> tuple[str, int]:
    from apps.outbound.models import OutboundCall

    with tenant_context(phones.client_a):
        call = OutboundCall.objects.get(pk=call_id)
        return call.status, call.attempts


async def test_declining_the_ringing_call_is_busy_and_it_is_tried_again_later(phones, session_cast):
    from asgiref.sync import sync_to_async

    features = list(phones.client_a.plan.features)
    page = _socket("alpha.localhost", await sync_to_async(_cookie)(session_cast.alice))
    try:
        assert (await page.connect())[0]
        call_id = await sync_to_async(_place_callback)(phones, session_cast, "+33612345678")
        assert (await page.receive_json_from(30))["type"] == "incoming"
        await page.send_json_to({"type": "decline"})
        assert (await page.receive_json_from(30))["type"] == "ended"
        assert await sync_to_async(_placed_status)(phones, call_id) == ("scheduled", 1)  # Twilio's `busy`: a retry
    finally:
        await page.disconnect()
        await sync_to_async(_placed_clean)(phones, features)
