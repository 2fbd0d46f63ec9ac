"""The Redis mirror the caps are checked against before a turn or a call: per client, this month's state
(open / paused) and what is left per metric. Written from the database (apps/billing/usage.py), never trusted
over it: missing or from another month, it is rebuilt. A usage paid entirely from the plan's included units
changes nothing but its own metric's "left": the mirror is then decremented in place (`gate_spend`) instead of
being rebuilt with three queries."""

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


def gate_store(client_id: int, period: date, state: str, remaining: dict[str, int], *,
               extra: dict[str, str] | None = None) -> None:
    key = _key(client_id)
    pipe = get_redis().pipeline()
    pipe.delete(key)
    pipe.hset(key, mapping={"period": period.isoformat(), "state": state, **(extra or {}),
                            **{k: str(v) for k, v in remaining.items()}})
    pipe.expire(key, settings.BILLING_GATE_TTL_S)
    pipe.execute()


def gate_clear(client_id: int) -> None:
    get_redis().delete(_key(client_id))


# KEYS[1] the mirror; ARGV: period, metric, quantity, the "unlimited" value. Returns {1, left, recharge_due}, {0, 0,
# recharge_due} for a metric the mirror does not hold, or nil when the mirror is missing or of another month.
_SPEND = """
if redis.call('HGET', KEYS[1], 'period') ~= ARGV[1] then return nil end
local due = redis.call('HGET', KEYS[1], 'recharge_due') or ''
local left = redis.call('HGET', KEYS[1], ARGV[2])
if not left then return {0, 0, due} end
left = tonumber(left)
if left < tonumber(ARGV[4]) then
  left = redis.call('HINCRBY', KEYS[1], ARGV[2], -tonumber(ARGV[3]))
end
return {1, left, due}
"""


def gate_spend(client_id: int, period: date, metric: str, quantity: int,
               unlimited: int) -> tuple[int | None, str] | None:
    """Take `quantity` off what is left of `metric` in the mirror (an unlimited metric stays unlimited), in one
    round trip: (what is left now — None for a metric without a cap —, the mirror's `recharge_due` flag), or None
    when the mirror must be rebuilt."""
    found = get_redis().eval(_SPEND, 1, _key(client_id), period.isoformat(), metric, quantity, unlimited)
    if found is None:
        return None
    held, left, due = found
    return (int(left) if held else None), due.decode() if isinstance(due, bytes) else str(due)
