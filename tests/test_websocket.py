"""WebSockets: two consumers of two clients in one process never see each other's rows.

Consumers run their ORM calls on Channels' shared database thread, so this test
commits its rows (and removes them afterwards) instead of using a test transaction.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.core.channels_tenancy import CLOSE_FORBIDDEN, CLOSE_UNKNOWN_CLIENT
from vocalia.asgi import application


@pytest.fixture
def committed(session_cast, django_db_blocker):
    """Audit rows in A and B, and sessions for alice and carol, committed for the consumers' thread."""
    with django_db_blocker.unblock():  # open for the whole test: the consumers' thread reads the database
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                for n in range(3):
                    AuditEvent.objects.create(action=f"probe.{client.slug}", target=str(n))
        cookies = {}
        for user in (session_cast.alice, session_cast.carol):
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.save()
            cookies[user.email] = f"{settings.SESSION_COOKIE_NAME}={store.session_key}".encode()
        yield cookies
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                AuditEvent.objects.filter(action__startswith="probe.").delete()


def socket(host: str, cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/dashboard/live/", headers=headers)


def actions(snapshot: dict) -> set[str]:
    return {item["action"] for item in snapshot["activity"]}


async def test_it_keeps_two_clients_apart_on_one_database_thread(committed):
    a = socket("alpha.localhost", committed["alice@a.test"])
    b = socket("bravo.localhost", committed["carol@b.test"])
    assert (await a.connect())[0] and (await b.connect())[0]
    first_a, first_b = await a.receive_json_from(), await b.receive_json_from()
    assert first_a["client"] == "alpha" and "probe.alpha" in actions(first_a) and "probe.bravo" not in actions(first_a)
    assert first_b["client"] == "bravo" and "probe.bravo" in actions(first_b) and "probe.alpha" not in actions(first_b)
    # interleave many refreshes: each answer must stay in its own schema
    for _ in range(10):
        await asyncio.gather(a.send_json_to({"type": "refresh"}), b.send_json_to({"type": "refresh"}))
        snap_a, snap_b = await asyncio.gather(a.receive_json_from(), b.receive_json_from())
        assert actions(snap_a) <= {"probe.alpha", "client.provisioned", "member.invited"} | actions(first_a)
        assert "probe.bravo" not in actions(snap_a)
        assert "probe.alpha" not in actions(snap_b)
    await a.disconnect()
    await b.disconnect()


async def test_it_closes_a_socket_from_another_clients_member(committed):
    stranger = socket("bravo.localhost", committed["alice@a.test"])
    connected, code = await stranger.connect()
    assert not connected and code == CLOSE_FORBIDDEN


async def test_it_closes_an_anonymous_socket(committed):
    connected, code = await socket("alpha.localhost").connect()
    assert not connected and code == CLOSE_FORBIDDEN


async def test_it_closes_a_socket_for_an_unknown_host(committed):
    connected, code = await socket("nobody.localhost", committed["alice@a.test"]).connect()
    assert not connected and code == CLOSE_UNKNOWN_CLIENT


async def test_it_answers_unknown_messages_with_an_error(committed):
    a = socket("alpha.localhost", committed["alice@a.test"])
    await a.connect()
    await a.receive_json_from()
    await a.send_json_to({"type": "drop tables"})
    assert (await a.receive_json_from())["type"] == "error"
    await a.disconnect()
