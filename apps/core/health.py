"""Liveness and readiness: what a load balancer and an operator ask."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from apps.core.redis import get_redis, platform_key


def liveness_response() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> dict[str, object]:
    connection.set_schema_to_public()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_redis() -> dict[str, object]:
    started = time.perf_counter()
    get_redis().ping()
    return {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 2)}


def _check_worker() -> dict[str, object]:
    beat = heartbeat_read()
    if beat is None:
        return {"status": "fail", "message": "no heartbeat from a Celery worker yet"}
    age = time.time() - beat
    if age > settings.HEARTBEAT_MAX_AGE_S:
        return {"status": "fail", "message": f"last worker heartbeat {age:.0f}s ago", "age_s": round(age, 1)}
    return {"status": "ok", "age_s": round(age, 1)}


def heartbeat_write() -> None:
    get_redis().set(platform_key("worker-heartbeat"), str(time.time()), ex=3600)


def heartbeat_read() -> float | None:
    value = get_redis().get(platform_key("worker-heartbeat"))
    return float(value) if value is not None else None


def _check_encryption() -> dict[str, object]:
    from apps.core.models import CANARY_PLAINTEXT, EncryptionCanary

    canary = EncryptionCanary.objects.order_by("pk").first()
    if canary is None:
        return {"status": "fail", "message": "no encryption canary: run migrate_all"}
    if canary.value != CANARY_PLAINTEXT:
        return {"status": "fail", "message": "FIELD_ENCRYPTION_KEY cannot decrypt stored data (wrong key?)"}
    return {"status": "ok"}


CHECKS = {"database": _check_database, "redis": _check_redis, "worker": _check_worker,
          "encryption": _check_encryption}


def readiness_response() -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a failing dependency is the answer, not a crash
            results[name] = {"status": "fail", "message": f"{type(exc).__name__}: {exc}"}
    ready = all(result["status"] == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "fail", "checks": results}, status=200 if ready else 503)
