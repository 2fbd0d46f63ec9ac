"""Simultaneous calls per client, capped by plan: one Redis sorted set per client, a member per call scored
by its expiry. A slot is taken when a call is answered, refreshed while its socket lives, and freed on every
end path (status callback, socket closed, relay action); a process that dies leaves a slot that expires
after TELEPHONY_SLOT_TTL_S (refreshed every turn), so a crash never blocks a client for good."""

from __future__ import annotations

import time

from django.conf import settings

from apps.core.redis import get_redis, platform_key

_ACQUIRE = """
local key, member, now, expiry, cap = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZSCORE', key, member) then
  redis.call('ZADD', key, expiry, member)
  return 1
end
if redis.call('ZCARD', key) >= cap then return 0 end
redis.call('ZADD', key, expiry, member)
redis.call('EXPIRE', key, math.ceil(expiry - now) + 60)
return 1
"""


def _key(client_id: int) -> str:
    return platform_key("calls", "slots", client_id)


def slot_acquire(*, client_id: int, call_sid: str, cap: int) -> bool:
    now = time.time()
    return bool(get_redis().eval(_ACQUIRE, 1, _key(client_id), call_sid, now, now + settings.TELEPHONY_SLOT_TTL_S,
                                 max(0, cap)))


def slot_refresh(*, client_id: int, call_sid: str) -> None:
    get_redis().zadd(_key(client_id), {call_sid: time.time() + settings.TELEPHONY_SLOT_TTL_S}, xx=True)


def slot_release(*, client_id: int, call_sid: str) -> None:
    get_redis().zrem(_key(client_id), call_sid)


def slots_used(*, client_id: int) -> int:
    redis = get_redis()
    redis.zremrangebyscore(_key(client_id), "-inf", time.time())
    return int(redis.zcard(_key(client_id)))
