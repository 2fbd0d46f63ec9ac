"""The raw Redis connection, for counters that must not depend on the active schema.

Django's cache prefixes every key with the active client's schema (good for
client data); platform counters (heartbeat, rate limits) use this instead.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache.backends import redis as django_redis


class SharedConnectionPool(redis.ConnectionPool):
    """One pool per URL and process. Django builds a cache object, and with it a pool, per thread, and ASGI
    runs each request's sync code on a thread of its own: every request opened a new Redis connection
    (measured: ~7 % of a widget turn). Set as the cache's `pool_class`."""

    _shared: dict[tuple[str, str], redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        key = (url, repr(sorted(kwargs.items())))
        with cls._lock:
            if key not in cls._shared:
                cls._shared[key] = redis.ConnectionPool.from_url(url, **kwargs)
            return cls._shared[key]


class _CacheClient(django_redis.RedisCacheClient):
    """Django's cache builds a new `redis.Redis` for every operation (its ~80 response callbacks: ~0.3 ms of
    CPU each time, about two a chat turn); one per pool serves them all (a `redis.Redis` is thread-safe: each
    command takes a connection from the pool)."""

    _clients: dict[int, redis.Redis] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None or client.connection_pool is not pool:
            with SharedConnectionPool._lock:
                client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """The cache backend (settings.CACHES): Django's, with one Redis client per pool (`_CacheClient`)."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _CacheClient


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    return redis.Redis(connection_pool=SharedConnectionPool.from_url(
        settings.CACHES["default"]["LOCATION"], socket_timeout=2, socket_connect_timeout=2))


def platform_key(*parts: object) -> str:
    return ":".join([settings.CACHES["default"].get("KEY_PREFIX", "vocalia"), "platform", *map(str, parts)])
