"""Sending webhook deliveries: the work of the Celery drain task (`tasks.webhooks_drain`) — claim due deliveries
of one schema, send them side by side, record the answers, and keep going while there is work.

Claims are one statement (`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)`) that sets a lease:
two workers draining one schema at once never get the same delivery, and one killed mid-send leaves leases that
run out, after which the sweeper queues its deliveries again. A drain keeps up to `WEBHOOK_BATCH_SIZE` requests
in flight on its threads (through the pooled, SSRF-guarded client of `transport`), claims more as they finish,
and writes each round's attempts and new states in one transaction fenced by the lease — so a slow receiver
holds only its own requests' slots, and a busy client's deliveries share their statements. The lease
(`WEBHOOK_LEASE_S`) must outlast one request (`WEBHOOK_TIMEOUT_S`).

Kicks: `outbox.kick` marks the schema in Redis (`WEBHOOK_KICK_MARK_MS`) and queues a drain unless the mark is
there; a running drain refreshes it, so a burst of events starts one drain, not one per event. A drain that runs
out of work clears the mark and claims once more before it stops: work committed before the clear is found by
that claim, work committed after it queues a new drain. A drain whose claim fills every free slot queues one
helper (a backlog spreads over the worker processes); one that reaches `WEBHOOK_DRAIN_S` hands over to a new task.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.clients.models import Membership
from apps.core.errors import InvalidInput
from apps.core.inputs import text_clean
from apps.events import outbox, routes, signing, transport
from apps.events.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 24 * 3600


LINGER_S = 0.05  # a drain whose last claim was small waits this long for more to claim together


@dataclass
class _Try:
    delivery: WebhookDelivery
    lease: datetime
    headers: dict[str, str]
    body: str
    answer: transport.Answer | None = None


# --- claiming ----------------------------------------------------------------------------------------------------


def deliveries_claim(*, now: datetime, lease: datetime, limit: int,
                     delivery_id: int | None = None) -> list[WebhookDelivery]:
    """Lease up to `limit` due deliveries that no worker holds (or just `delivery_id`), committed before anything
    is sent; with their event and endpoint. Concurrent claimers skip each other's rows instead of waiting."""
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    only = "AND id = %s" if delivery_id is not None else ""
    params: list[Any] = [lease, WebhookDelivery.Status.PENDING, now, now,
                         *([delivery_id] if delivery_id is not None else []), limit]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET lease_until = %s, attempts = attempts + 1 WHERE id IN ("
            f"SELECT id FROM {table} WHERE status = %s AND next_attempt_at <= %s "
            f"AND (lease_until IS NULL OR lease_until < %s) {only} "
            "ORDER BY next_attempt_at, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id", params)
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return []
    return list(WebhookDelivery.objects.select_related("event", "endpoint").filter(id__in=ids).order_by("id"))


def deliveries_drain() -> int:
    """Send the current schema's due deliveries until none is left (or WEBHOOK_DRAIN_S passed); how many."""
    size = settings.WEBHOOK_BATCH_SIZE
    deadline = time.monotonic() + settings.WEBHOOK_DRAIN_S
    in_flight: dict[Future[transport.Answer], _Try] = {}
    total = 0
    helped = stopping = False
    while True:
        free = size - len(in_flight)
        claimed: list[_Try] = []
        if free > 0 and time.monotonic() < deadline:
            if not stopping:
                outbox.kick_mark_refresh()
            claimed = _claim_tries(limit=free)
            total += len(claimed)
            if len(claimed) == free and not helped:
                outbox.drain_queue()  # a backlog: another worker process takes a share
                helped = True
            for one in claimed:
                in_flight[_executor().submit(_post, one)] = one
        if not in_flight:
            if time.monotonic() >= deadline:
                outbox.drain_queue()  # a new task goes on (this one gave the others a turn)
                return total
            if stopping:
                return total
            if not claimed:
                outbox.kick_mark_clear()  # from now on a kick queues a new drain; what came before, we claim
                stopping = True
            continue
        stopping = False
        done, _waiting = wait(in_flight, timeout=LINGER_S, return_when=ALL_COMPLETED)
        if not done:
            done, _waiting = wait(in_flight, timeout=settings.WEBHOOK_TIMEOUT_S, return_when=FIRST_COMPLETED)
        finished = []
        for future in done:
            one = in_flight.pop(future)
            one.answer = _answer(future)
            finished.append(one)
        _record(finished)
        if len(claimed) < size // 2 and not in_flight:
            time.sleep(LINGER_S)  # light traffic: let a few more events commit, to claim and record them together


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """One try at one delivery, now (replays in tests, the shell). Safe to run twice, in two workers at once:
    the try is claimed with a lease that only one of them wins; a delivery not due, leased or finished is left
    alone. None when nothing was sent (also: the endpoint is disabled, or its rate is spent this second)."""
    tries = _claim_tries(limit=1, delivery_id=delivery_id)
    if not tries:
        return None
    tries[0].answer = _post(tries[0])
    _record(tries)
    delivery = tries[0].delivery
    delivery.refresh_from_db()
    return delivery


# --- one claim ---------------------------------------------------------------------------------------------------


def _claim_tries(*, limit: int, delivery_id: int | None = None) -> list[_Try]:
    """Claim up to `limit` due deliveries and make their requests: deliveries to a disabled endpoint fail,
    those past their endpoint's rate wait for the next second (not counted as a try), the others are signed."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_S)
    batch = deliveries_claim(now=now, lease=lease, limit=limit, delivery_id=delivery_id)
    endpoints = {delivery.endpoint_id: delivery.endpoint for delivery in batch}
    by_endpoint: dict[int, list[WebhookDelivery]] = defaultdict(list)
    for delivery in batch:
        delivery.endpoint = endpoints[delivery.endpoint_id]  # one endpoint object (one decrypted secret) each
        by_endpoint[delivery.endpoint_id].append(delivery)
    tries: list[_Try] = []
    for endpoint_id, deliveries in by_endpoint.items():
        endpoint = endpoints[endpoint_id]
        if not endpoint.enabled:
            _release(deliveries, lease=lease, status=WebhookDelivery.Status.FAILED, now=now)
            continue
        allowed = _rate_take(endpoint, len(deliveries))
        if allowed < len(deliveries):
            _release(deliveries[allowed:], lease=lease, status=WebhookDelivery.Status.PENDING,
                     now=now + timedelta(seconds=1))
        secrets_in_force = endpoint.secrets_in_force(now)
        timestamp = int(now.timestamp())
        for delivery in deliveries[:allowed]:
            body = _body(delivery.event)
            headers = signing.headers_for(secrets_in_force=secrets_in_force, msg_id=delivery.event.public_id,
                                          timestamp=timestamp, body=body)
            tries.append(_Try(delivery=delivery, lease=lease, headers=headers, body=body))
    return tries


def _answer(future: Future[transport.Answer]) -> transport.Answer:
    """A sent request's answer; a failure of our own (a bug, not the receiver's) becomes a failed try of that
    delivery alone, so the others of the round are still recorded."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - logged, and recorded on the delivery's attempt
        logger.exception("webhook request failed in the sender")
        return transport.Answer(status=None, error=f"internal error: {type(error).__name__}"[:300])


def _post(one: _Try) -> transport.Answer:
    return transport.post(one.delivery.endpoint.url, body=one.body.encode(), headers=one.headers)


_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    """The sending threads of this worker process (made in the process that sends: never across a fork)."""
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=settings.WEBHOOK_BATCH_SIZE, thread_name_prefix="webhook")
    return _EXECUTOR


def _release(deliveries: list[WebhookDelivery], *, lease: datetime, status: str, now: datetime) -> None:
    """Give back claimed deliveries untried: failed (their endpoint is disabled) or pending again at `now`."""
    ids = [delivery.pk for delivery in deliveries]
    fields: dict[str, Any] = {"lease_until": None, "queued_until": None, "attempts": F("attempts") - 1}
    if status == WebhookDelivery.Status.FAILED:
        fields.update(status=status, last_error="endpoint disabled", finished_at=now, next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk__in=ids, lease_until=lease).update(**fields)
        if status == WebhookDelivery.Status.PENDING:
            outbox.work_add(due=now)


def _body(event: Event) -> str:
    """The exact bytes sent (and signed): Standard Webhooks' {type, timestamp, data}, with our id and version."""
    return json.dumps({"id": event.public_id, "type": event.type, "version": event.version,
                       "timestamp": event.created.isoformat().replace("+00:00", "Z"), "data": event.data},
                      ensure_ascii=False, separators=(",", ":"))


def _rate_take(endpoint: WebhookEndpoint, wanted: int) -> int:
    """How many of `wanted` sends fit in this second's `rate_per_second` of one endpoint (a Redis counter per
    second, shared by every worker; fails open)."""
    from apps.core.redis import get_redis

    key = f"webhook-rate:{connection.schema_name}:{endpoint.pk}:{int(timezone.now().timestamp())}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incrby(key, wanted)
        pipe.expire(key, 2)
        count = int(pipe.execute()[0])
    except Exception:  # noqa: BLE001 - without Redis there is no broker either; do not add a failure
        return wanted
    return max(0, min(wanted, endpoint.rate_per_second - (count - wanted)))


def _retry_after(answer: transport.Answer, now: datetime) -> float | None:
    value = answer.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, min((moment - now).total_seconds(), MAX_RETRY_AFTER_S))


# --- recording ---------------------------------------------------------------------------------------------------


def _record(tries: list[_Try]) -> None:
    """The batch's attempts, and each delivery's new state, in one transaction. Fenced by the lease: a try that
    outlived its lease (another worker took over) records its attempt but does not overwrite the newer state."""
    now = timezone.now()
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_S
    attempts: list[DeliveryAttempt] = []
    succeeded: dict[tuple[datetime, int], list[int]] = defaultdict(list)  # (lease, status code) → ids
    changes: list[tuple[int, datetime, dict[str, Any]]] = []
    health: dict[int, tuple[WebhookEndpoint, list[int | None]]] = {}
    for one in tries:
        delivery, answer = one.delivery, one.answer
        assert answer is not None
        status = answer.status
        ok = status is not None and 200 <= status < 300
        next_at: datetime | None = None
        if not ok and status != 410 and delivery.retry_step < len(schedule):
            delay = float(schedule[delivery.retry_step])
            if status is not None and (status == 429 or status >= 500):
                wait = _retry_after(answer, now)
                if wait is not None:
                    delay = max(delay, wait)
            next_at = now + timedelta(seconds=delay)
        attempts.append(DeliveryAttempt(
            delivery=delivery, number=delivery.attempts, started=now - timedelta(milliseconds=answer.latency_ms),
            request_url=delivery.endpoint.url[:1000], request_headers=one.headers, request_body=one.body,
            response_status=status, response_excerpt=text_clean(answer.excerpt)[:transport.EXCERPT_BYTES],
            latency_ms=answer.latency_ms, error=answer.error[:300], next_retry_at=next_at))
        health.setdefault(delivery.endpoint_id, (delivery.endpoint, []))[1].append(status)
        if ok:
            succeeded[(one.lease, status)].append(delivery.pk)
            continue
        fields: dict[str, Any] = {"last_status_code": status, "last_error": answer.error[:300], "lease_until": None,
                                  "queued_until": None}  # a retry is the sweeper's to queue when due
        if next_at is not None:
            fields.update(next_attempt_at=next_at, retry_step=delivery.retry_step + 1)
        else:
            fields.update(status=WebhookDelivery.Status.FAILED, finished_at=now, next_attempt_at=None)
        changes.append((delivery.pk, one.lease, fields))
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        for (lease, code), ids in succeeded.items():
            WebhookDelivery.objects.filter(pk__in=ids, lease_until=lease).update(
                status=WebhookDelivery.Status.SUCCEEDED, finished_at=now, next_attempt_at=None, last_status_code=code,
                last_error="", lease_until=None, queued_until=None)
        retries = []
        for pk, lease, fields in changes:
            if WebhookDelivery.objects.filter(pk=pk, lease_until=lease).update(**fields) and \
                    fields.get("next_attempt_at") is not None:
                retries.append(fields["next_attempt_at"])
        if retries:
            outbox.work_add(due=min(retries))
        for endpoint, statuses in health.values():
            _endpoint_health(endpoint=endpoint, statuses=statuses, now=now)


def _endpoint_health(*, endpoint: WebhookEndpoint, statuses: list[int | None], now: datetime) -> None:
    """After a batch's answers from one endpoint: 410 disables it; a success ends its failing streak; failures
    only start one (or, 5 days on, disable it)."""
    if 410 in statuses:
        _endpoint_auto_disable(endpoint_id=endpoint.pk, reason=WebhookEndpoint.DisabledReason.GONE)
        return
    if any(status is not None and 200 <= status < 300 for status in statuses):
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    elif now - endpoint.failing_since >= timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        _endpoint_auto_disable(endpoint_id=endpoint.pk, reason=WebhookEndpoint.DisabledReason.FAILING)


def _endpoint_auto_disable(*, endpoint_id: int, reason: str) -> None:
    """Disable an endpoint the platform gave up on, fail its pending deliveries, and tell the owners by e-mail
    (through the messaging seam) — the Developers and home pages show a banner too."""
    if not WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
            enabled=False, disabled_reason=reason):
        return
    routes.routes_forget()  # a queryset update sends no signal
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING).exclude(
        lease_until__gt=timezone.now()).update(status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled",
                                               finished_at=timezone.now(), next_attempt_at=None)
    audit_record(action="webhook.endpoint_auto_disabled", target=f"webhook:{endpoint_id}",
                 data={"reason": reason, "url": endpoint.url})
    _owners_tell(endpoint=endpoint, reason=reason)


def _owners_tell(*, endpoint: WebhookEndpoint, reason: str) -> None:
    from django.utils import translation

    from apps.messaging.services import message_send

    client = getattr(connection, "tenant", None)
    if client is None or not hasattr(client, "memberships"):
        return
    owners = Membership.objects.filter(client=client, role=Membership.Role.OWNER).select_related("user")
    with translation.override(getattr(client, "default_language", None) or "en"):
        why = (_("it answered 410 Gone") if reason == WebhookEndpoint.DisabledReason.GONE
               else _("its deliveries failed for 5 days"))
        subject = _("A webhook endpoint was disabled")
        body = _("We disabled your webhook endpoint %(url)s because %(why)s. Fix the receiver, enable it again "
                 "on the Developers page, and recover the failed deliveries from there.") % {
            "url": endpoint.url, "why": why}
        for membership in owners:
            try:
                message_send(channel="email", to=membership.user.email, subject=subject, body=body)
            except InvalidInput:
                logger.warning("could not tell %s about webhook %s", membership.user.email, endpoint.pk)
