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
from apps.core.channels_tenancy import CLOSE_FORBIDDEN, CLOSE_ORIGIN_NOT_ALLOWED, CLOSE_UNKNOWN_CLIENT
from apps.core.sockets import CLOSE_MESSAGE_TOO_BIG
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


def socket(host: str, cookie: bytes | None = None, origin: str | None = "", path: str = "/ws/dashboard/live/"
           ) -> WebsocketCommunicator:
    """A handshake to `host`, from the page `origin` (default: the same host; None: no Origin header)."""
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", (origin or f"http://{host}").encode()))
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


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


async def test_it_refuses_a_foreign_origin_carrying_a_members_session(committed):
    """Cross-site WebSocket hijacking: a page elsewhere opens the dashboard's socket with alice's cookie."""
    for origin in ("https://evil.example", "http://bravo.localhost", "null", "http://alpha.localhost.evil.example",
                   "ftp://alpha.localhost"):
        connected, code = await socket("alpha.localhost", committed["alice@a.test"], origin=origin).connect()
        assert (connected, code) == (False, CLOSE_ORIGIN_NOT_ALLOWED), origin


async def test_it_refuses_a_handshake_without_an_origin(committed):
    connected, code = await socket("alpha.localhost", committed["alice@a.test"], origin=None).connect()
    assert (connected, code) == (False, CLOSE_ORIGIN_NOT_ALLOWED)


async def test_it_accepts_the_clients_own_host_on_any_port(committed):
    a = socket("alpha.localhost:8000", committed["alice@a.test"], origin="http://ALPHA.localhost:8000")
    assert (await a.connect())[0]
    assert (await a.receive_json_from())["client"] == "alpha"
    await a.disconnect()


async def test_a_publishable_key_never_opens_a_dashboard_socket(committed, session_cast):
    """The key is public: on the platform host it names a client for the widget's socket only."""
    stranger = socket("localhost", committed["alice@a.test"], origin="https://evil.example",
                      path=f"/ws/dashboard/live/?key={session_cast.pk_a}")
    connected, code = await stranger.connect()
    assert (connected, code) == (False, CLOSE_UNKNOWN_CLIENT)


async def test_it_answers_every_malformed_message_with_an_error_and_stays_usable(committed):
    a = socket("alpha.localhost", committed["alice@a.test"])
    await a.connect()
    await a.receive_json_from()
    bad = ["not json", "[" * 100_000, '{"type": 5}', "[]", '{"type": "refresh", "x": 1' + "0" * 5000 + "}",
           '"\\ud800"', '{"type": "\\ud800"}']
    for raw in bad:
        await a.send_to(text_data=raw)
        answer = await a.receive_json_from()
        assert answer["type"] == "error" and answer["message"], raw
    await a.send_to(bytes_data=b"\x00\xff")
    assert (await a.receive_json_from())["type"] == "error"
    await a.send_json_to({"type": "refresh"})
    assert (await a.receive_json_from())["type"] == "snapshot"
    await a.disconnect()


@pytest.mark.parametrize("frame", [{"text_data": "x" * (3 * 1024 * 1024)}, {"bytes_data": b"\0" * (5 * 1024 * 1024)}],
                         ids=["text", "binary"])
async def test_it_closes_a_frame_of_several_megabytes_with_1009(committed, frame):
    a = socket("alpha.localhost", committed["alice@a.test"])
    await a.connect()
    await a.receive_json_from()
    await a.send_to(**frame)
    closed = await a.receive_output(5)
    assert closed == {"type": "websocket.close", "code": CLOSE_MESSAGE_TOO_BIG}
    assert await a.receive_nothing(0.2)
    b = socket("alpha.localhost", committed["alice@a.test"])  # the process is unharmed
    assert (await b.connect())[0] and (await b.receive_json_from())["type"] == "snapshot"
    await b.disconnect()
