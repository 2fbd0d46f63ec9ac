"""Tenant safety for WebSockets.

django-tenants' middleware never runs for consumers, and `database_sync_to_async`
runs every consumer's ORM calls on one shared thread with one connection, so a
schema set by one consumer is seen by the next (STACK-NOTES.md, measured). The
rules here make that leak impossible:

1. `ClientScopeMiddleware` resolves the client once, from the host (a client's
   dashboard) or the publishable key (`?key=pk_…`, the widget on the platform
   host), and puts it in `scope["client"]`. No client, no socket.
2. Consumers touch the database only through `client_db(client, fn, ...)`, which
   runs `fn` on the DB thread *inside* `tenant_context(client)`, every call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import close_old_connections, connection
from django.http.request import split_domain_port
from django_tenants.utils import schema_context, tenant_context

from apps.clients.models import Client
from apps.clients.selectors import client_by_host, client_by_publishable_key

T = TypeVar("T")

# WebSocket close codes (4000-4999 are the application's own).
CLOSE_UNKNOWN_CLIENT = 4404
CLOSE_CLIENT_UNAVAILABLE = 4403
CLOSE_FORBIDDEN = 4401


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


async def client_db(client: Client, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the sync `fn` on the shared database thread inside `client`'s schema, every call."""

    def inside() -> T:
        with tenant_context(client):
            return fn(*args, **kwargs)

    return await public_db(inside)


@lru_cache(maxsize=1)
def _platform_hosts() -> frozenset[str]:
    return frozenset(host.lower() for host in settings.PLATFORM_HOSTS)


def _resolve(scope: dict[str, Any]) -> Client | None:
    headers = dict(scope.get("headers") or [])
    host_header = headers.get(b"host", b"").decode("latin-1")
    host, _port = split_domain_port(host_header)
    if host and host not in _platform_hosts():
        return client_by_host(host)
    query = parse_qs(scope.get("query_string", b"").decode())
    key = (query.get("key") or [""])[0]
    return client_by_publishable_key(key) if key else None


class ClientScopeMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        client = await public_db(_resolve, scope)
        if client is None or client.status != Client.Status.ACTIVE:
            code = CLOSE_UNKNOWN_CLIENT if client is None else CLOSE_CLIENT_UNAVAILABLE
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": code})
            return None
        return await self.inner(dict(scope, client=client), receive, send)


class ClientConsumer(AsyncJsonWebsocketConsumer):
    """Base for every tenant consumer: `self.client` and `self.db(fn, ...)`, nothing else touches the DB."""

    client: Client

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        self.client = self.scope["client"]
        await super().websocket_connect(message)

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await client_db(self.client, fn, *args, **kwargs)
