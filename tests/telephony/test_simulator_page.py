"""The dashboard's "Call your agent": a member's socket drives a real ConversationRelay call."""

from __future__ import annotations

from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore

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
    assert reply["type"] == "reply" and reply["text"] and '"handover"' in reply["end"]
    await socket.send_json_to({"type": "hangup"})
    assert (await socket.receive_json_from(30))["type"] == "ended"
    await socket.disconnect()
    [call] = await sync_to_async(calls_of)(phones.client_a)
    assert call.from_number == "+15550100000" and call.conversation.channel == "phone"


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
