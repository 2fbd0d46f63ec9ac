"""Tenant safety for WebSockets.

django-tenants' middleware never runs for consumers, and `database_sync_to_async`
runs every consumer's ORM calls on one shared thread with one connection, so a
schema set by one consumer is seen by the next (STACK-NOTES.md, measured). The
rules here make that leak impossible:

1. `ClientScopeMiddleware` resolves the client once, from the host (a client's
   dashboard) or the publishable key (`?key=pk_…`, the widget on the platform
   host, on the widget's paths only: the key is public), and puts it in
   `scope["client"]`. No client, no socket.
2. The browser's Origin is checked before any consumer runs, in one place: a socket
   of a client's host (the dashboard's, which carries the member's session cookie)
   must come from a page of that client's own hosts, or it is refused before the
   handshake completes (daphne answers 403): no cross-site WebSocket hijacking.
   The widget's paths are opened from the client's websites: their consumer checks
   the widget's allow-list instead (apps/widget/voice.py), before it reads a message.
3. Consumers touch the database only through `client_db(client, fn, ...)`, which
   runs `fn` on the DB thread *inside* `tenant_context(client)`, every call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections, connection
from django.http.request import split_domain_port
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, tenant_context

from apps.clients.models import Client
from apps.clients.selectors import client_by_host, client_by_publishable_key
from apps.core.errors import InvalidInput, VocaliaError
from apps.core.inputs import json_parse

T = TypeVar("T")

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_UNKNOWN_CLIENT = 4404
CLOSE_CLIENT_UNAVAILABLE = 4403
CLOSE_FORBIDDEN = 4401
CLOSE_ORIGIN_NOT_ALLOWED = 4403

# Sockets opened from the client's own websites (the widget's allow-list applies, checked by the consumer):
# only there may a publishable key name the client.
WIDGET_PATHS = ("/ws/widget/",)


def _close_stale_connections() -> None:
    # What channels' database_sync_to_async does around each call, except inside a transaction
    # (a test's, or a caller's atomic block), where the connection must be kept.
    if not connection.in_atomic_block:
        close_old_connections()


async def public_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the sync `fn` on the shared database thread, in the public schema."""

    def call() -> T:
        _close_stale_connections()
        try:
            with schema_context("public"):
                return fn(*args, **kwargs)
        finally:
            _close_stale_connections()

    return await sync_to_async(call, thread_sensitive=True)()


def client_db_here(client: Client, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """What `client_db` does, in the calling thread, for a sync caller (a view, a task): the same connection
    hygiene and the same schema, without the hop to an event loop and back to this very thread."""
    _close_stale_connections()
    try:
        with schema_context("public"), tenant_context(client):
            return fn(*args, **kwargs)
    finally:
        _close_stale_connections()


async def client_db(client: Client, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the sync `fn` on the shared database thread inside `client`'s schema, every call."""

    def inside() -> T:
        with tenant_context(client):
            return fn(*args, **kwargs)

    return await public_db(inside)


@lru_cache(maxsize=1)
def _platform_hosts() -> frozenset[str]:
    return frozenset(host.lower() for host in settings.PLATFORM_HOSTS)


def _header(scope: dict[str, Any], name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def _resolve(scope: dict[str, Any]) -> Client | None:
    host, _port = split_domain_port(_header(scope, b"host"))
    if host and host not in _platform_hosts():
        return client_by_host(host)
    if not scope["path"].startswith(WIDGET_PATHS):
        return None
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    key = (query.get("key") or [""])[0]
    return client_by_publishable_key(key) if key else None


def origin_is_clients_own(origin: str, client: Client) -> bool:
    """Whether `origin` (scheme://host[:port]) is a page of one of `client`'s own hosts, on any port."""
    try:
        parts = urlsplit(origin)
        hostname = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not hostname:
        return False
    found = client_by_host(hostname)
    return found is not None and found.pk == client.pk


def _admitted(scope: dict[str, Any]) -> tuple[Client | None, int]:
    """The socket's client, or None and the close code that refuses the handshake."""
    if scope["path"].startswith("/ws/twilio/"):  # Twilio's sockets: signed handshake, the number's client
        from apps.telephony.sockets import twilio_socket_admit

        return twilio_socket_admit(scope)
    client = _resolve(scope)
    if client is None:
        return None, CLOSE_UNKNOWN_CLIENT
    if client.status != Client.Status.ACTIVE:
        return None, CLOSE_CLIENT_UNAVAILABLE
    if not scope["path"].startswith(WIDGET_PATHS) and not origin_is_clients_own(_header(scope, b"origin"), client):
        return None, CLOSE_ORIGIN_NOT_ALLOWED
    return client, 0


class ClientScopeMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        client, code = await public_db(_admitted, scope)
        if client is None:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": code})
            return None
        return await self.inner(dict(scope, client=client), receive, send)


class ClientConsumer(AsyncJsonWebsocketConsumer):
    """Base for every tenant consumer: `self.client` and `self.db(fn, ...)`, nothing else touches the DB.

    Messages are JSON text, parsed with `json_parse` (bounded depth and numbers, NUL stripped); anything
    else, and any VocaliaError a handler raises, is answered with `{"type": "error", "code", "message"}`.
    """

    client: Client

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.client = self.scope["client"]
        await super().websocket_connect(message)

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await client_db(self.client, fn, *args, **kwargs)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            if text_data is None:
                raise InvalidInput(_("Control messages are JSON objects."))
            await self.receive_json(json_parse(text_data), **kwargs)
        except VocaliaError as error:
            await self.send_error(error)

    async def send_error(self, error: VocaliaError) -> None:
        await self.send_json({"type": "error", "code": error.code, "message": str(error.message)})
