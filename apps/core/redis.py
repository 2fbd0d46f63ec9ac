"""The raw Redis connection, for counters that must not depend on the active schema.

Django's cache prefixes every key with the active client's schema (good for
client data); platform counters (heartbeat, rate limits) use this instead.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CACHES["default"]["LOCATION"], socket_timeout=2, socket_connect_timeout=2)


def platform_key(*parts: object) -> str:
    return ":".join([settings.CACHES["default"].get("KEY_PREFIX", "vocalia"), "platform", *map(str, parts)])
