"""A small schema-independent cache for routing lookups (host, key, number → client).

Django's cache prefixes keys with the active schema, which is not chosen yet when
a request is being routed; these entries live under one platform prefix instead
and are deleted by signals when the rows they copy change.
"""

from __future__ import annotations

import pickle
from typing import Any

from django.conf import settings

from apps.core.redis import get_redis, platform_key

MISSING = object()


def cache_get(*parts: object) -> Any:
    raw = get_redis().get(platform_key("route", *parts))
    return MISSING if raw is None else pickle.loads(raw)


def cache_set(value: Any, *parts: object) -> None:
    get_redis().set(platform_key("route", *parts), pickle.dumps(value), ex=settings.RESOLUTION_CACHE_TTL)


def cache_delete_many(keys: list[tuple[object, ...]]) -> None:
    if keys:
        get_redis().delete(*(platform_key("route", *parts) for parts in keys))
