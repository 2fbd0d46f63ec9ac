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
