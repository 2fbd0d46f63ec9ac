"""The outbox's work index and sweeper, and the kill-the-worker path with a real Celery worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.core.models import OutboxDue
from apps.events import outbox, services
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


def endpoint_for(cast, receiver):
    endpoint, _secret = services.webhook_endpoint_create(client=cast.client_a, actor=cast.alice, url=receiver.url)
    return endpoint


def index_row(schema):
    with schema_context("public"):
        return OutboxDue.objects.filter(schema_name=schema).first()


@pytest.mark.django_db
def test_the_index_row_commits_with_the_event_or_not_at_all(cast, receiver):
    from apps.crm.services import ticket_create

    with tenant_context(cast.client_a):
        endpoint_for(cast, receiver)
        with pytest.raises(RuntimeError), transaction.atomic():
            ticket_create(subject="Rolled back")
            assert index_row(cast.client_a.schema_name) is not None
            raise RuntimeError
        assert index_row(cast.client_a.schema_name) is None and not WebhookDelivery.objects.exists()
        ticket_create(subject="Kept")
        row = index_row(cast.client_a.schema_name)
        assert row is not None and row.next_due > timezone.now()  # the kick sends it; the sweeper after the grace
        assert index_row(cast.client_b.schema_name) is None


@pytest.mark.django_db
def test_the_sweeper_sends_what_a_lost_kick_left_then_forgets_the_schema(cast, receiver,
                                                                        django_capture_on_commit_callbacks):
    from apps.crm.services import ticket_create

    with tenant_context(cast.client_a):
        endpoint_for(cast, receiver)
        with django_capture_on_commit_callbacks(execute=False):  # the kick is lost (Redis flushed, worker died)
            ticket_create(subject="Kick lost")
        assert receiver.requests == [] and WebhookDelivery.objects.get().status == "pending"
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.sweep() == 0  # not due yet: the grace after a kick
        later = timezone.now() + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S + 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.sweep(now=later) == 1
        assert WebhookDelivery.objects.get().status == "succeeded" and len(receiver.requests) == 1
        with django_capture_on_commit_callbacks(execute=True):
            outbox.sweep(now=later + timedelta(minutes=1))  # recomputed: nothing pending, the row goes
        assert index_row(cast.client_a.schema_name) is None
        connection.set_tenant(cast.client_a)


@pytest.mark.django_db
def test_the_index_follows_the_next_retry(cast, receiver, django_capture_on_commit_callbacks):
    from apps.crm.services import ticket_create

    with tenant_context(cast.client_a):
        endpoint_for(cast, receiver)
        receiver.answers = [(500, {}, b"")]
        with django_capture_on_commit_callbacks(execute=True):
            ticket_create(subject="Retry")
        delivery = WebhookDelivery.objects.get()
        assert delivery.next_attempt_at > timezone.now()  # in 5 s
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # time travel
        later = timezone.now() + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S + 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.sweep(now=later) == 1  # due: queued, and the task sends it
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and delivery.attempts == 2
        receiver.answers = [(500, {}, b"")] * 2
        with django_capture_on_commit_callbacks(execute=True):
            ticket_create(subject="Retry later")
        pending = WebhookDelivery.objects.get(status="pending")
        assert index_row(cast.client_a.schema_name).next_due == pending.next_attempt_at  # lowered to the retry
        with schema_context("public"):
            OutboxDue.objects.update(next_due=timezone.now() - timedelta(minutes=1))  # as if stale
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox.sweep() == 0  # entered, nothing due: recomputed from the pending rows
        connection.set_tenant(cast.client_a)
        assert index_row(cast.client_a.schema_name).next_due == pending.next_attempt_at


def _worker(env: dict[str, str], log: object, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "vocalia", "worker", "--pool", "solo", "--without-heartbeat",
         "--without-gossip", "--without-mingle", "-n", f"{name}@%h", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what} (see tests/artifacts/outbox-worker.log)"
        time.sleep(0.1)


def test_a_worker_killed_mid_delivery_loses_nothing(session_cast, receiver, django_db_blocker):
    """A real worker process takes the delivery and is SIGKILLed while the receiver holds the request; its
    lease runs out, the sweeper queues the delivery again, a new worker sends it: same webhook-id, delivered."""
    from vocalia.celery import app

    cast = session_cast
    parts = urlparse(settings.DATABASE_URL)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vocalia.settings_test", WEBHOOKS_ALLOW_PRIVATE_URLS="1",
               WEBHOOKS_ALLOW_HTTP="1", WEBHOOK_LEASE_S="2", DB_POOL_MAX="0",
               DATABASE_URL=urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"])))
    ARTIFACTS.mkdir(exist_ok=True)
    receiver.delay_s = 60.0  # the first request hangs: the worker is mid-delivery when it is killed
    eager = app.conf.task_always_eager
    workers: list[subprocess.Popen] = []
    with django_db_blocker.unblock(), open(ARTIFACTS / "outbox-worker.log", "w") as log:
        try:
            app.conf.task_always_eager = False  # this test's tasks go through Redis to the real workers
            with tenant_context(cast.client_a):
                endpoint = endpoint_for(cast, receiver)
                event = services.event_record(type="webhook.test", endpoint=endpoint,
                                              data={"message": "kill me", "endpoint_id": endpoint.pk})
            workers.append(_worker(env, log, "first"))
            try:
                _wait(lambda: len(receiver.requests) == 1, 25, "the first worker's request")
            except AssertionError:
                os.kill(workers[0].pid, signal.SIGUSR1)
                time.sleep(2)
                raise
            os.killpg(workers[0].pid, signal.SIGKILL)
            workers[0].wait(timeout=10)
            receiver.delay_s = 0.0
            with tenant_context(cast.client_a):
                delivery = WebhookDelivery.objects.get(event=event)
                assert (delivery.status, delivery.attempts) == ("pending", 1) and delivery.lease_until is not None
                assert not delivery.attempt_log.exists()  # the killed worker recorded nothing
            workers.append(_worker(env, log, "second"))
            time.sleep(2.5)  # the lease runs out
            later = timezone.now() + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S + 1)
            with schema_context("public"):
                assert outbox.sweep(now=later) == 1

            def delivered() -> bool:
                with tenant_context(cast.client_a):
                    return WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded"

            _wait(delivered, 90, "the second worker's delivery")
            assert len(receiver.requests) == 2
            assert {r.headers["webhook-id"] for r in receiver.requests} == {event.public_id}
        finally:
            app.conf.task_always_eager = eager
            for worker in workers:
                if worker.poll() is None:
                    os.killpg(worker.pid, signal.SIGTERM)
                    worker.wait(timeout=20)
            with tenant_context(cast.client_a):
                WebhookEndpoint.objects.all().delete()
                Event.objects.all().delete()
                from apps.audit.models import AuditEvent

                AuditEvent.objects.filter(action__startswith="webhook.").delete()
            with schema_context("public"):
                OutboxDue.objects.all().delete()
            connection.set_schema_to_public()
