"""The inbox, live: what changed in a client's conversations goes to its open dashboards over the Channels layer,
and who of the team has a dashboard open (presence, to decide between a live notification and an e-mail).

One layer group per client schema (`inbox.<schema>`). Events carry ids and kinds, never message text: each
dashboard fetches what it shows through the pages (which check the member), so a socket never learns more than
its page could. Sent after the commit, so a dashboard never fetches a row that is not there yet.

Presence is a sorted set per member and client in Redis: one entry per open dashboard socket, scored by when it
expires (each socket refreshes it on its heartbeat); a socket that died without closing drops out by itself.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from apps.core.redis import get_redis, platform_key

logger = logging.getLogger(__name__)

PRESENCE_TTL_S = 90  # the dashboard's socket sends a heartbeat every 30 s


def inbox_group(schema: str) -> str:
    return f"inbox.{schema}"


def _send(schema: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(inbox_group(schema), payload)
    except Exception:  # noqa: BLE001 - a dashboard missing one live event must never fail a visitor's turn
        logger.warning("inbox event for %s not sent", schema, exc_info=True)


class _Publish:
    """One live event to send after the commit; equal to another for the same schema and payload."""

    __slots__ = ("payload", "schema", "sent")

    def __init__(self, schema: str, payload: dict[str, Any]) -> None:
        self.schema, self.payload, self.sent = schema, payload, False

    def __call__(self) -> None:
        self.sent = True
        _send(self.schema, self.payload)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _Publish) and not other.sent and not self.sent
                and (other.schema, other.payload) == (self.schema, self.payload))

    __hash__ = None  # type: ignore[assignment]


def inbox_publish(*, event: str, conversation_id: int, **data: Any) -> None:
    """Tell the active client's open dashboards, once the transaction commits (at once outside one).

    The same event twice in one transaction is sent once (a chat turn stores the visitor's message and the
    reply: one "message" event for the dashboards, which fetch what changed). The callbacks already waiting
    are Django's list for this transaction (`run_on_commit`, emptied by a rollback, trimmed by a savepoint's
    rollback), so an event dropped as a duplicate is never one whose twin was rolled back."""
    schema = connection.schema_name
    if schema == "public":
        return
    publish = _Publish(schema, {"type": "inbox.event", "event": event, "conversation": conversation_id, **data})
    if connection.in_atomic_block and any(entry[1] == publish for entry in connection.run_on_commit):
        return
    transaction.on_commit(publish)


def _presence_key(schema: str, user_id: int) -> str:
    return platform_key("presence", schema, user_id)


def presence_touch(*, schema: str, user_id: int, socket: str) -> None:
    key = _presence_key(schema, user_id)
    now = time.time()
    pipe = get_redis().pipeline()
    pipe.zadd(key, {socket: now + PRESENCE_TTL_S})
    pipe.zremrangebyscore(key, "-inf", now)
    pipe.expire(key, PRESENCE_TTL_S)
    pipe.execute()


def presence_leave(*, schema: str, user_id: int, socket: str) -> None:
    get_redis().zrem(_presence_key(schema, user_id), socket)


def member_online(*, schema: str, user_id: int) -> bool:
    """Whether the member has a dashboard of this client open (a socket seen in the last 90 s)."""
    return bool(get_redis().zcount(_presence_key(schema, user_id), time.time(), "+inf"))
