"""The transactional outbox's work index and its sweeper.

`core.OutboxDue` (public schema) holds, per client schema, a time at or before which that schema's earliest
pending delivery falls due. Invariant: no pending delivery of a schema is due before its row's `next_due`.
- every write that makes a delivery due (an event, a retry, a replay) calls `work_add` in its own transaction:
  `INSERT … ON CONFLICT DO UPDATE SET next_due = LEAST(…)`, committed with the delivery rows;
- on commit, `kick` queues a drain task for the schema (`tasks.webhooks_drain`, `sending.deliveries_drain`),
  at most one waiting at a time (a Redis mark): the drain claims a batch of due deliveries and sends them;
- the sweeper (`sweep`, Celery beat) reads only the rows due now, and for each schema queues drains for the
  deliveries due, then recomputes the row from the schema's pending deliveries while holding the row's lock (a writer's
  upsert waits for it, then lowers the time again), or deletes it when nothing is pending.
Redis holds only the tasks: flushing it loses a kick, never a delivery — the sweeper queues it again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django_tenants.utils import schema_context
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from apps.clients.models import Client
from apps.core.models import OutboxDue
from apps.core.redis import get_redis, platform_key
from apps.events.models import WebhookDelivery

logger = logging.getLogger(__name__)


def work_add(*, due: datetime, schema: str | None = None) -> None:
    """Note (in the current transaction) that `schema` has a delivery due at `due`."""
    schema = schema or connection.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO public."{OutboxDue._meta.db_table}" (schema_name, next_due) VALUES (%s, %s) '
            "ON CONFLICT (schema_name) DO UPDATE SET next_due = LEAST(EXCLUDED.next_due, "
            f'public."{OutboxDue._meta.db_table}".next_due) '
            f'WHERE public."{OutboxDue._meta.db_table}".next_due > EXCLUDED.next_due',
            [schema, due])


def kick() -> None:
    """After the commit, start a drain of the current schema (a lost kick is the sweeper's to redo)."""
    schema = connection.schema_name
    transaction.on_commit(lambda: kick_now(schema=schema))


def kick_now(*, schema: str | None = None) -> None:
    """Queue a drain of `schema` unless its mark says one is queued or running: that one will see this work
    too (see `sending`'s docstring for why nothing is left behind)."""
    schema = schema or connection.schema_name
    try:
        if not get_redis().set(_mark(schema), "1", nx=True, px=settings.WEBHOOK_KICK_MARK_MS):
            return
    except (OSError, RedisError):
        logger.warning("no kick mark for %s (Redis); queueing a drain anyway", schema, exc_info=True)
    drain_queue(schema=schema)


def drain_queue(*, schema: str | None = None) -> None:
    """Queue a drain task of `schema` (the current one by default), whatever the mark says."""
    from apps.events.tasks import webhooks_drain

    schema = schema or connection.schema_name
    try:
        webhooks_drain.apply_async(headers={"_schema_name": schema})
    except (KombuError, OSError, RedisError):  # the broker is down: the rows are in the outbox, the sweeper sends
        logger.warning("could not queue a webhook drain in %s; the sweeper will", schema, exc_info=True)


def kick_mark_refresh() -> None:
    """A drain at work: kicks need not queue another one for a while."""
    try:
        get_redis().set(_mark(connection.schema_name), "1", px=settings.WEBHOOK_KICK_MARK_MS)
    except (OSError, RedisError):
        logger.warning("could not refresh the webhook kick mark", exc_info=True)


def kick_mark_clear() -> None:
    """A drain about to stop: the next kick queues a new drain (the drain claims once more after this)."""
    try:
        get_redis().delete(_mark(connection.schema_name))
    except (OSError, RedisError):
        logger.warning("could not clear the webhook kick mark", exc_info=True)


def _mark(schema: str) -> str:
    return platform_key("webhook-kick", schema)


def due_filter(now: datetime) -> Q:
    """Pending, due, and no worker holding it (no lease, or an expired one): what a task may claim."""
    return Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now) & (
        Q(lease_until__isnull=True) | Q(lease_until__lt=now))


def sweepable_filter(now: datetime) -> Q:
    """Claimable, and no task queued for it lately: what the sweeper queues (a backlog of queued tasks is
    not queued again on every tick, only after WEBHOOK_REQUEUE_S, in case its task was lost)."""
    return due_filter(now) & (Q(queued_until__isnull=True) | Q(queued_until__lt=now))


def sweep_schema(*, schema: str, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Queue drains for the due deliveries of one schema (one per batch) and recompute its index row; the ids
    of the deliveries found."""
    from apps.events.tasks import webhooks_drain

    now = now or timezone.now()
    requeue = timedelta(seconds=settings.WEBHOOK_REQUEUE_S)
    with schema_context(schema), transaction.atomic():
        row = OutboxDue.objects.select_for_update().filter(schema_name=schema).first()
        if row is None:
            return []
        ids = list(WebhookDelivery.objects.filter(sweepable_filter(now)).order_by("next_attempt_at", "id")
                   .values_list("id", flat=True)[:limit])
        if ids:
            WebhookDelivery.objects.filter(id__in=ids).update(queued_until=now + requeue)
        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        earliest = pending.aggregate(at=Min(Greatest(
            F("next_attempt_at"), Coalesce(F("lease_until"), F("next_attempt_at")),
            Coalesce(F("queued_until"), F("next_attempt_at")))))["at"]
        if len(ids) >= limit:
            earliest = now  # more to queue: the next tick goes on
        if earliest is None:
            row.delete()
        else:
            OutboxDue.objects.filter(pk=row.pk).update(next_due=earliest)
        for _batch in range(0, len(ids), settings.WEBHOOK_BATCH_SIZE):
            transaction.on_commit(lambda: webhooks_drain.apply_async(headers={"_schema_name": schema}))
    return ids


def sweep(*, now: datetime | None = None, schemas_per_tick: int = 200) -> int:
    """One beat tick: the schemas whose index row is due (one indexed query on a small public table), swept."""
    now = now or timezone.now()
    with schema_context("public"):
        schemas = list(OutboxDue.objects.filter(next_due__lte=now).order_by("next_due")
                       .values_list("schema_name", flat=True)[:schemas_per_tick])
    queued = 0
    known = set(Client.objects.filter(schema_name__in=schemas).values_list("schema_name", flat=True))
    for gone in set(schemas) - known:  # a client deleted with its schema: its work went with it
        OutboxDue.objects.filter(schema_name=gone).delete()
    for schema in [name for name in schemas if name in known]:
        try:
            queued += len(sweep_schema(schema=schema, now=now))
        except Exception:  # one broken schema (dropped, mid-migration) must not stop the others
            logger.exception("webhook sweep failed for schema %s", schema)
    return queued
