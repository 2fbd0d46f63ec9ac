"""The inbox, live: events of a client's conversations reach its own members' dashboard sockets, never another
client's; a notification reaches its member only; an open socket marks the member present."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django_tenants.utils import tenant_context

from apps.conversations.live import inbox_publish, member_online
from tests.conftest import host_of
from vocalia.asgi import application


@pytest.fixture
def cookies(session_cast, django_db_blocker):
    with django_db_blocker.unblock():  # open for the whole test: the consumers' thread reads the database
        found = {}
        for user in (session_cast.alice, session_cast.bob, session_cast.carol):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.save()
            found[user.email] = f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode()
        yield found


def dashboard(client, cookie):
    host = host_of(client)
    return WebsocketCommunicator(application, "/ws/dashboard/live/", headers=[
        (b"host", host.encode()), (b"origin", f"http://{host}".encode()), (b"cookie", cookie)])


def publish(client, **event):
    with tenant_context(client):
        inbox_publish(**event)


async def test_inbox_events_reach_the_clients_own_members_only(session_cast, cookies):
    cast = session_cast
    alice, bob = dashboard(cast.client_a, cookies["alice@a.test"]), dashboard(cast.client_a, cookies["bob@a.test"])
    carol = dashboard(cast.client_b, cookies["carol@b.test"])
    for socket in (alice, bob, carol):
        assert (await socket.connect())[0]
        assert (await socket.receive_json_from())["type"] == "snapshot"
    assert await sync_to_async(member_online)(schema=cast.client_a.schema_name, user_id=cast.alice.pk)
    try:
        await sync_to_async(publish)(cast.client_a, event="message", conversation_id=7)
        for socket in (alice, bob):
            event = await socket.receive_json_from(timeout=5)
            assert event["type"] == "inbox" and event["event"] == "message" and event["conversation"] == 7
            assert isinstance(event["unread"], int)
        assert await carol.receive_nothing(timeout=0.3)

        await sync_to_async(publish)(cast.client_a, event="notify", conversation_id=7, user=cast.bob.pk,
                                     reason="assigned")
        event = await bob.receive_json_from(timeout=5)
        assert event["event"] == "notify" and event["reason"] == "assigned"
        assert await alice.receive_nothing(timeout=0.3) and await carol.receive_nothing(timeout=0.1)

        await alice.send_json_to({"type": "ping"})
        assert await alice.receive_nothing(timeout=0.2)  # a heartbeat is answered by nothing
    finally:
        for socket in (alice, bob, carol):
            await socket.disconnect()
    assert not await sync_to_async(member_online)(schema=cast.client_a.schema_name, user_id=cast.alice.pk)
