"""The Redis mirror the caps are checked against before a turn or a call: per client, this month's state
(open / paused) and what is left per metric. Written from the database (apps/billing/usage.py), never trusted
over it: missing or from another month, it is rebuilt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

from apps.core.redis import get_redis, platform_key
from apps.usage.services import month_start

OPEN, PAUSED = "open", "paused"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    state: str
    remaining: int


def _key(client_id: int) -> str:
    return platform_key("billing-gate", client_id)


def gate_check(client_id: int, metric: str, quantity: int) -> Decision | None:
    """One HMGET. None when the mirror is missing or stale (the caller rebuilds it from the database)."""
    period, state, left = get_redis().hmget(_key(client_id), "period", "state", metric)
    if period is None or state is None or period.decode() != month_start().isoformat():
        return None
    if state.decode() == PAUSED:
        return Decision(False, PAUSED, 0)
    if left is None:
        return Decision(True, OPEN, -1)  # a metric without a cap
    remaining = int(left)
    return Decision(remaining >= quantity, OPEN, remaining)


def gate_store(client_id: int, period: date, state: str, remaining: dict[str, int]) -> None:
    key = _key(client_id)
    pipe = get_redis().pipeline()
    pipe.delete(key)
    pipe.hset(key, mapping={"period": period.isoformat(), "state": state, **{k: str(v) for k, v in remaining.items()}})
    pipe.expire(key, settings.BILLING_GATE_TTL_S)
    pipe.execute()


def gate_clear(client_id: int) -> None:
    get_redis().delete(_key(client_id))
