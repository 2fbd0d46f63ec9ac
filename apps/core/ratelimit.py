"""Fixed-window counters in Redis: one INCR per request, shared by every process."""

from __future__ import annotations

import time

from apps.core.errors import RateLimited
from apps.core.redis import get_redis, platform_key


def rate_limit_hit(*, scope: str, identity: str, limit: int, window_s: int = 60) -> int:
    """Count one request for `identity` in `scope`; raise RateLimited past `limit` per window.

    Returns how many requests are left in the current window.
    """
    now = int(time.time())
    window = now // window_s
    key = platform_key("rl", scope, identity, window)
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, window_s + 1)
    count, _ = pipe.execute()
    if count > limit:
        raise RateLimited(retry_after=(window + 1) * window_s - now)
    return limit - int(count)
