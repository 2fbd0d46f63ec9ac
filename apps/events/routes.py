"""Which of the current client's webhook endpoints want an event type — without a query per event.

A chat turn records two events (the visitor's message, the agent's reply); most clients have no endpoint at
all. The enabled endpoints' ids and types are kept in Redis per client (`webhook-routes:<schema>:<client id>`,
the client's id so that a schema dropped and created again never inherits them), next to a generation number:

- every change of an endpoint (`routes_forget`: the model's save and delete signals, and the services' queryset
  updates) bumps the generation and deletes the routes, at once and again after its commit;
- a reader that finds no routes reads the database and stores what it read only if the generation has not
  moved since before its read (one Lua call), so a read made before a change's commit is never kept after it;
- inside a transaction that changed endpoints (its own rows, not committed yet), the routes are read from the
  database and never stored (a rollback ends that, as Django empties the transaction's callbacks).

Lost invalidations (a change made outside these paths) end with the routes' expiry (`WEBHOOK_ROUTES_TTL_S`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from redis.exceptions import RedisError

from apps.core.redis import get_redis, platform_key

logger = logging.getLogger(__name__)

_STORE = """
if redis.call('GET', KEYS[2]) == ARGV[1] or (redis.call('EXISTS', KEYS[2]) == 0 and ARGV[1] == '') then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


def _keys(connection: Any) -> tuple[str, str] | None:
    client_id = getattr(getattr(connection, "tenant", None), "pk", None)
    if client_id is None:  # a bare schema_context: no stable identity to key the routes by
        return None
    return (platform_key("webhook-routes", connection.schema_name, client_id),
            platform_key("webhook-routes-gen", connection.schema_name, client_id))


class _Changed:
    """After the commit of a transaction that changed endpoints: forget the routes again. While it waits in the
    transaction's callbacks (Django's `run_on_commit`, emptied by a rollback), that transaction reads its routes
    from the database: they are its own, not committed, not for the cache."""

    __slots__ = ("keys", "schema")

    def __init__(self, schema: str, keys: tuple[str, str] | None) -> None:
        self.schema, self.keys = schema, keys

    def __call__(self) -> None:
        if self.keys is not None:
            _bump(self.keys)


def _changed_here(connection: Any) -> bool:
    return connection.in_atomic_block and any(
        isinstance(entry[1], _Changed) and entry[1].schema == connection.schema_name
        for entry in connection.run_on_commit)


def _read_database() -> list[tuple[int, list[str]]]:
    from apps.events.models import WebhookEndpoint

    return [(pk, list(types or [])) for pk, types in
            WebhookEndpoint.objects.filter(enabled=True).order_by("id").values_list("id", "event_types")]


def _routes() -> list[tuple[int, list[str]]]:
    connection = connections["default"]
    keys = _keys(connection)
    if keys is None or _changed_here(connection):
        return _read_database()
    try:
        stored, generation = get_redis().mget(keys)
    except RedisError:
        logger.warning("webhook routes unreadable in Redis; read from the database", exc_info=True)
        return _read_database()
    if stored is not None:
        return [(int(pk), list(types)) for pk, types in json.loads(stored)]
    routes = _read_database()
    try:
        get_redis().eval(_STORE, 2, *keys, (generation or b"").decode(), json.dumps(routes),
                         settings.WEBHOOK_ROUTES_TTL_S)
    except RedisError:
        logger.warning("webhook routes not stored in Redis", exc_info=True)
    return routes


def routes_for(event_type: str) -> list[int]:
    """The ids of the enabled endpoints of the current schema that want `event_type`."""
    return [pk for pk, types in _routes() if not types or event_type in types]


def _bump(keys: tuple[str, str]) -> None:
    try:
        pipe = get_redis().pipeline()
        pipe.incr(keys[1])
        pipe.expire(keys[1], settings.WEBHOOK_ROUTES_TTL_S * 2)
        pipe.delete(keys[0])
        pipe.execute()
    except RedisError:
        logger.warning("webhook routes not forgotten in Redis", exc_info=True)


def routes_forget() -> None:
    """The current schema's endpoints changed (or are about to, in this transaction)."""
    connection = connections["default"]
    keys = _keys(connection)
    if keys is not None:
        _bump(keys)
    if not _changed_here(connection):
        transaction.on_commit(_Changed(connection.schema_name, keys))
