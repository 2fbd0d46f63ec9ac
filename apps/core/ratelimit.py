"""Fixed-window counters in Redis: one INCR per request, shared by every process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from apps.core.errors import RateLimited
from apps.core.redis import get_redis, platform_key


@dataclass(frozen=True)
class RateWindow:
    """Where one identity stands in its current window, as the `RateLimit-*` headers tell it."""

    limit: int
    remaining: int
    reset_s: int  # seconds until the window ends and the budget is whole again

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset_s)}


def rate_limit_take(*, scope: str, identity: str, limit: int, window_s: int = 60) -> RateWindow:
    """Count one request for `identity` in `scope` and return the window; past `limit` raise RateLimited, whose
    headers carry `Retry-After` and the same `RateLimit-*` headers (remaining 0)."""
    now = int(time.time())
    window = now // window_s
    key = platform_key("rl", scope, identity, window)
    pipe = get_redis().pipeline()
    pipe.incr(key)
    pipe.expire(key, window_s + 1)
    count, _ = pipe.execute()
    reset = max(1, (window + 1) * window_s - now)
    state = RateWindow(limit=limit, remaining=max(0, limit - int(count)), reset_s=reset)
    if count > limit:
        error = RateLimited(retry_after=reset)
        error.headers.update(state.headers())
        raise error
    return state


def rate_limit_hit(*, scope: str, identity: str, limit: int, window_s: int = 60) -> int:
    """Count one request for `identity` in `scope`; raise RateLimited past `limit` per window.

    Returns how many requests are left in the current window.
    """
    return rate_limit_take(scope=scope, identity=identity, limit=limit, window_s=window_s).remaining
