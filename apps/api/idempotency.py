"""`Idempotency-Key` on POST: the first answer is kept for 24 hours and replayed to any retry with the same key.

Stored per client in Redis (the key names the client, so one client's key never answers another's request):
- a first request claims the key (SET NX, "running", for at most LOCK_S) and runs; its answer (any status below
  500) is then kept for TTL_S; a 5xx answer releases the key so the retry runs again;
- a retry with the same key and the same request (method, path, query, content type, body: a SHA-256
  fingerprint) gets the stored answer, with `Idempotent-Replayed: true`;
- the same key with another request: 422 `idempotency_key_reused`;
- the same key while the first request still runs: 409 `idempotency_in_progress` with `Retry-After: 1`.
A request that died without answering (a killed worker) frees its key after LOCK_S.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.utils.encoders import JSONEncoder

from apps.core.errors import Conflict, InvalidInput, Unprocessable
from apps.core.redis import get_redis, platform_key

HEADER = "Idempotency-Key"
TTL_S = 24 * 3600
LOCK_S = 60
MAX_KEY_CHARS = 255
KEPT_HEADERS = ("Location",)


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"
    default_message = _("A request with this Idempotency-Key is still being processed. Retry in a moment.")


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used with other parameters.")


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    data: Any
    headers: dict[str, str]


class Replay(Exception):  # noqa: N818 - not an error: the base view answers it with the stored answer
    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("idempotent replay")
        self.answer = answer


@dataclass(frozen=True)
class Claim:
    redis_key: str
    fingerprint: str


def key_check(value: str) -> str:
    if not value or len(value) > MAX_KEY_CHARS or not value.isascii() or not value.isprintable():
        raise InvalidInput(_("The Idempotency-Key must be 1 to 255 printable ASCII characters."), param=HEADER)
    return value


def fingerprint(*, method: str, path: str, query: str, content_type: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method, path, query, content_type):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\n")
    digest.update(body)
    return digest.hexdigest()


def idempotency_claim(*, client_id: int, key: str, request_fingerprint: str) -> Claim:
    """Claim `key` for this request, or raise Replay (same request, answered), IdempotencyKeyReused (other
    parameters) or IdempotencyInProgress (the first one still runs)."""
    redis_key = platform_key("idem", str(client_id), hashlib.sha256(key_check(key).encode()).hexdigest())
    redis = get_redis()
    for _attempt in range(2):  # the stored entry may expire between SET NX and GET: then claim again
        running = json.dumps({"state": "running", "fingerprint": request_fingerprint})
        if redis.set(redis_key, running, nx=True, ex=LOCK_S):
            return Claim(redis_key=redis_key, fingerprint=request_fingerprint)
        raw = redis.get(redis_key)
        if raw is None:
            continue
        stored = json.loads(raw)
        if stored["fingerprint"] != request_fingerprint:
            raise IdempotencyKeyReused(param=HEADER)
        if stored["state"] == "running":
            raise IdempotencyInProgress(headers={"Retry-After": "1"}, param=HEADER)
        raise Replay(StoredAnswer(status=stored["status"], data=stored["data"], headers=stored["headers"]))
    raise IdempotencyInProgress(headers={"Retry-After": "1"}, param=HEADER)


def idempotency_settle(*, claim: Claim, status: int, data: Any, headers: dict[str, str]) -> None:
    """Keep the answer for TTL_S, or release the key after a server error (the retry must run again)."""
    redis = get_redis()
    if status >= 500:
        redis.delete(claim.redis_key)
        return
    kept = {name: value for name, value in headers.items() if name in KEPT_HEADERS}
    entry = {"state": "done", "fingerprint": claim.fingerprint, "status": status, "data": data, "headers": kept}
    redis.set(claim.redis_key, json.dumps(entry, cls=JSONEncoder), ex=TTL_S)
