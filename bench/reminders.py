"""Reminder sweep: 100 clients × 1,000 appointments; one beat sweep finds the due reminders and queues them.

    .venv/bin/python bench/reminders.py [--clients 100] [--appointments 1000] [--keep]

Setup (not timed): `--clients` throw-away clients `bench-rem-*`, each provisioned the way apps/clients/provisioning
does it (its schema cloned from the migrated template, NODATA), one agent, `--appointments` appointments 30 minutes
apart from now + 12 h, and their notices as `notices_plan` writes them (bulk-inserted here: one confirmation already
sent, a day-before and an hour-before reminder scheduled) plus each client's row in the public due index. About 25
day-before reminders per client are due at once (a backlog, the worst tick), then the clock moves on an hour a sweep.

Timed: `notices_sweep(now=…)` — the due index (one query), then per client with work: its due row locked, its due
notices locked (SKIP LOCKED), a Delivery per reminder, and after the commit one Celery message per 200 deliveries to
the real broker (REDIS_URL; no worker listens during the bench, the queue is purged at the end). Also timed, for
comparison: a tick with nothing due through the index vs. the same tick visiting every schema.

Last line: {"sweep_s": …, "queued_per_s": …, "duplicates": 0, …}
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from _setup import emit

from apps.clients import provisioning, services
from apps.clients.models import Client, Plan


def _drop_all(prefix: str) -> None:
    for client in Client.objects.filter(slug__startswith=prefix):
        provisioning.schema_drop(client.schema_name)
        client.delete()


def _fill(client, count: int, base) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from django_tenants.utils import tenant_context

    from apps.agents.models import Agent
    from apps.bookings.models import Appointment
    from apps.messaging.models import Notice
    from apps.messaging.notices import day_before
    from apps.schedule.services import due_note

    zone = ZoneInfo(client.timezone)
    with tenant_context(client):
        agent = Agent.objects.create(name="Bench", languages=["fr"], default_language="fr", tools=[],
                                     business={"business_name": client.name})
        rows = []
        for n in range(count):
            start = base + timedelta(minutes=30 * n)
            rows.append(Appointment(agent=agent, start=start, end=start + timedelta(minutes=25),
                                    blocked_until=start + timedelta(minutes=30), customer_name=f"Client {n}",
                                    customer_phone=f"+3361{n:07d}", notify_channel="sms", language="fr",
                                    reference=f"B{client.pk:04d}{n:06d}"[:12]))
        appointments = Appointment.objects.bulk_create(rows, batch_size=1000)
        notices = []
        for appointment in appointments:
            notices.append(Notice(appointment=appointment, kind="confirmed", channel="sms",
                                  to=appointment.customer_phone, language="fr", due_at=base - timedelta(days=2),
                                  status="queued"))
            notices.append(Notice(appointment=appointment, kind="reminder_24h", channel="sms",
                                  to=appointment.customer_phone, language="fr",
                                  due_at=day_before(appointment.start, zone)))
            notices.append(Notice(appointment=appointment, kind="reminder_1h", channel="sms",
                                  to=appointment.customer_phone, language="fr",
                                  due_at=appointment.start - timedelta(hours=1)))
        Notice.objects.bulk_create(notices, batch_size=2000)
        due_note(client_id=client.pk, kind="notices", at=min(n.due_at for n in notices if n.status == "scheduled"))


def _empty(client) -> None:  # type: ignore[no-untyped-def]
    from django_tenants.utils import tenant_context

    from apps.agents.models import Agent
    from apps.bookings.models import Appointment
    from apps.integrations.models import Delivery
    from apps.messaging.models import Contact, MessagingSettings, Notice
    from apps.schedule.models import DueWork

    with tenant_context(client):
        Notice.objects.all().delete()
        Delivery.objects.all().delete()
        Appointment.objects.all().delete()
        Agent.objects.all().delete()
        Contact.objects.all().delete()
        MessagingSettings.objects.all().delete()
    DueWork.objects.filter(client=client).delete()


def _scan_every_schema(clients, now) -> int:  # type: ignore[no-untyped-def]
    """What the sweep would do without the due index: enter every schema and ask for its due notices."""
    from django_tenants.utils import tenant_context

    from apps.messaging.models import Notice

    found = 0
    for client in clients:
        with tenant_context(client):
            found += Notice.objects.filter(status="scheduled", due_at__lte=now).count()
    return found


def _duplicates(clients) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from django.db.models import Count
    from django_tenants.utils import tenant_context

    from apps.integrations.models import Delivery
    from apps.messaging.models import Notice

    duplicates = total = 0
    for client in clients:
        with tenant_context(client):
            rows = Delivery.objects.filter(purpose__startswith="notice:reminder").values("to", "purpose") \
                .annotate(n=Count("id"))
            duplicates += sum(row["n"] - 1 for row in rows if row["n"] > 1)
            total += sum(row["n"] for row in rows)
            queued = Notice.objects.filter(kind__startswith="reminder", status="queued").count()
            assert queued == sum(row["n"] for row in rows), "a queued notice without its one delivery"
    return duplicates, total


def main() -> None:
    from django.db import connection
    from django.utils import timezone

    from apps.messaging.models import MessagingSettings
    from apps.messaging.notices import notices_sweep
    from vocalia.celery import app

    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--appointments", type=int, default=1000)
    parser.add_argument("--sweeps", type=int, default=5, help="sweeps after the first, an hour apart")
    parser.add_argument("--keep", action="store_true", help="keep the clients (to run it again faster)")
    parser.add_argument("--reuse", action="store_true", help="reuse the clients a --keep run left (emptied first)")
    args = parser.parse_args()
    prefix = "bench-rem-"
    provisioning.template_sync()
    plan = Plan.objects.get(code="pro")
    now = timezone.now().replace(second=0, microsecond=0)
    base = now + timedelta(hours=12)

    started = time.perf_counter()
    existing = {c.slug: c for c in Client.objects.filter(slug__startswith=prefix)}
    clients, cloned = [], 0
    for index in range(args.clients):
        slug = f"{prefix}{index:03d}"
        found = existing.get(slug)
        if found is not None and args.reuse and found.status == Client.Status.ACTIVE \
                and provisioning.schema_is_current(found.schema_name):
            _empty(found)  # a previous run's clients (--keep): emptied, not cloned again
            clients.append(found)
            continue
        if found is not None:
            provisioning.schema_drop(found.schema_name)
            found.delete()
        client = services.client_create(name=slug, slug=slug, plan=plan, provision=False)
        clients.append(services.client_provision(client_id=client.pk))
        cloned += 1
        if cloned % 10 == 0:
            print(f"  {cloned} cloned ({time.perf_counter() - started:.0f} s)", flush=True)
    print(f"setup: {args.clients} client schemas ({cloned} cloned now, {args.clients - cloned} kept from a previous "
          f"run) in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    from django_tenants.utils import tenant_context

    for client in clients:
        _fill(client, args.appointments, base)
        with tenant_context(client):  # no quiet hours: the bench's clock may fall in the night
            MessagingSettings.objects.create(pk=1, quiet_start="00:00", quiet_end="00:00")
    connection.set_schema_to_public()
    print(f"setup: {args.clients * args.appointments} appointments and their notices in "
          f"{time.perf_counter() - started:.1f} s")

    try:
        started = time.perf_counter()
        first = notices_sweep(now=now)
        sweep_s = time.perf_counter() - started
        print(f"first sweep (backlog): {first['queued']} reminders queued in {first['clients']} clients, "
              f"{sweep_s:.2f} s, {first['queued'] / sweep_s:.0f} reminders/s")
        again = notices_sweep(now=now)
        print(f"same time again: {again['queued']} queued (nothing is queued twice)")
        later_s = []
        later_queued = 0
        for hour in range(1, args.sweeps + 1):
            tick = time.perf_counter()
            result = notices_sweep(now=now + timedelta(hours=hour))
            later_s.append(time.perf_counter() - tick)
            later_queued += result["queued"]
            print(f"sweep at +{hour} h: {result['queued']} queued in {result['clients']} clients, "
                  f"{later_s[-1]:.2f} s")
        quiet_now = now + timedelta(hours=args.sweeps, minutes=1)
        tick = time.perf_counter()
        idle = notices_sweep(now=quiet_now)
        idle_s = time.perf_counter() - tick
        tick = time.perf_counter()
        _scan_every_schema(clients, quiet_now)
        scan_s = time.perf_counter() - tick
        connection.set_schema_to_public()
        print(f"a tick with nothing due: {idle_s * 1000:.1f} ms through the due index "
              f"({idle['clients']} schemas entered) vs {scan_s * 1000:.1f} ms visiting all {len(clients)} schemas")
        duplicates, total = _duplicates(clients)
        connection.set_schema_to_public()
        print(f"reminder deliveries: {total}, duplicates: {duplicates}")
        emit({"sweep_s": round(sweep_s, 3), "queued_per_s": round(first["queued"] / sweep_s, 1),
              "duplicates": duplicates, "first_sweep_queued": first["queued"], "repeat_sweep_queued": again["queued"],
              "hourly_sweep_s_max": round(max(later_s), 3) if later_s else None, "hourly_queued": later_queued,
              "idle_tick_index_ms": round(idle_s * 1000, 1), "idle_tick_scan_all_ms": round(scan_s * 1000, 1),
              "clients": args.clients, "appointments": args.clients * args.appointments})
    finally:
        app.control.purge()  # the bench's delivery batches: no worker was meant to send them
        if not args.keep:
            _drop_all(prefix)


if __name__ == "__main__":
    main()
