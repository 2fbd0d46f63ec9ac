"""Billing at scale: 100 clients × 10,000 usage rows (each client its own schema, as in production).

    .venv/bin/python bench/billing.py [--clients 100] [--rows 10000] [--checks 20000] [--meter 5000]

- the cap check before a turn (`usage_allowed`, the Redis mirror), p50 / p99 over random clients;
- the usage ledger's own write path (`usage_record`: idempotent insert, counter, split, mirror), per second;
- the period aggregation: this month's totals per metric from the ledger rows, for every client (seconds);
- meter-event batching: pending overage rows sent through the Stripe provider (its HTTP answered in-process by
  respx, so the figure is our batching + the SDK's encoding, not Stripe's latency), events per second.

`--keep` leaves the clients for the next run, which reuses them (provisioning 100 schemas takes 15 s on an idle
2-core machine and minutes on a loaded one); without it they are dropped at the end.

The 10,000 rows per client are bulk-loaded with one INSERT … SELECT generate_series per schema (going through
`usage_record` for a million rows would take most of an hour and measure nothing new: its own rate is measured
separately). Clients `bench-bill-*` are created by cloning the template and dropped at the end.
Last line: {"cap_check_p99_ms": …, "aggregate_s": …, "meter_events_per_s": …, …}
"""

from __future__ import annotations

import argparse
import os
import random
import time

import httpx
import respx
from _setup import emit, median, percentile
from django.db import connection
from django_tenants.utils import tenant_context

from apps.billing import metering
from apps.billing.models import BillingAccount
from apps.billing.usage import gate_rebuild, usage_allowed, usage_record
from apps.clients import provisioning, services
from apps.clients.models import Client, Plan
from apps.core.redis import get_redis
from apps.integrations.billing.stripe import StripeBilling
from apps.usage.models import UsageCounter, UsageRecord
from apps.usage.services import month_start

PREFIX = "bench-bill-"


def _drop_all() -> None:
    for client in Client.objects.filter(slug__startswith=PREFIX):
        provisioning.schema_drop(client.schema_name)
        client.delete()


def _load(client: Client, rows: int) -> None:
    """`rows` ledger rows this month, a mix of kinds; a tenth beyond the plan (overage not yet metered)."""
    period = month_start()
    table = UsageRecord._meta.db_table
    with tenant_context(client), connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (key, kind, metric, quantity, occurred, period, included, wallet, overage,
                                 unit_price, unit_cost, wallet_micros, overage_micros, cost_micros, meter_attempts,
                                 meter_error)
            SELECT 'bench:' || n, k.kind, k.metric, 1 + n %% 5,
                   %s::date + make_interval(secs => (n * 97) %% (28 * 86400)), %s,
                   CASE WHEN n %% 10 = 0 THEN 0 ELSE 1 + n %% 5 END, 0,
                   CASE WHEN n %% 10 = 0 THEN 1 + n %% 5 ELSE 0 END,
                   0.2, 0.06, 0, CASE WHEN n %% 10 = 0 THEN (1 + n %% 5) * 200000 ELSE 0 END,
                   (1 + n %% 5) * 60000, 0, ''
            FROM generate_series(1, %s) AS n
            JOIN (VALUES (0, 'chat_turn', 'chat_turns'), (1, 'voice_minute', 'voice_minutes'),
                         (2, 'sms', 'messages'), (3, 'call_minute', 'voice_minutes')) AS k(i, kind, metric)
              ON k.i = n %% 4""", [period, period, rows])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--meter", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="leave the clients for the next run")
    args = parser.parse_args()
    provisioning.template_sync()
    plan = Plan.objects.get(code="pro")

    started = time.perf_counter()
    clients, made = [], 0
    for index in range(args.clients):
        slug = f"{PREFIX}{index:03d}"
        client = Client.objects.filter(slug=slug).first()
        if client is not None and client.status != Client.Status.ACTIVE:
            provisioning.schema_drop(client.schema_name)
            client.delete()
            client = None
        if client is None:
            client = services.client_create(name=slug, slug=slug, plan=plan, provision=False)
            services.client_provision(client_id=client.pk)
            made += 1
        clients.append(Client.objects.select_related("plan").get(pk=client.pk))
    print(f"{args.clients} clients ready, {made} provisioned by clone now, in {time.perf_counter() - started:.1f} s")
    try:
        started = time.perf_counter()
        for client in clients:
            with tenant_context(client):
                UsageRecord.objects.all().delete()
                UsageCounter.objects.all().delete()
            _load(client, args.rows)
        print(f"{args.clients * args.rows:,} ledger rows bulk-loaded in {time.perf_counter() - started:.1f} s")

        for client in clients:  # the mirror, as after each client's last write
            with tenant_context(client):
                gate_rebuild(client)
        rng = random.Random(7)
        timings = []
        for _n in range(args.checks):
            client = rng.choice(clients)
            begin = time.perf_counter()
            usage_allowed(client=client, kind="chat_turn")
            timings.append((time.perf_counter() - begin) * 1000)
        p50, p99 = median(timings), percentile(timings, 99)
        print(f"cap check before a turn (Redis mirror), {args.checks:,} calls: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        redis = get_redis()
        pings = []
        for _n in range(args.checks):  # the floor: one bare Redis round trip, measured the same way
            begin = time.perf_counter()
            redis.ping()
            pings.append((time.perf_counter() - begin) * 1000)
        ping_p99 = percentile(pings, 99)
        print(f"  for comparison, a bare Redis PING on this machine now: p50 {median(pings):.3f} ms, "
              f"p99 {ping_p99:.3f} ms (os.getloadavg: {', '.join(f'{x:.1f}' for x in os.getloadavg())})")

        writer = clients[0]
        begin = time.perf_counter()
        with tenant_context(writer):
            for n in range(args.writes):
                usage_record(kind="chat_turn", quantity=1, key=f"bench:write:{n}")
        writes_per_s = args.writes / (time.perf_counter() - begin)
        print(f"usage_record (ledger row + counter + split + mirror), {args.writes:,} writes: {writes_per_s:.0f} /s")

        begin = time.perf_counter()
        totals = 0
        for client in clients:
            with tenant_context(client), connection.cursor() as cursor:
                cursor.execute(f"SELECT metric, SUM(quantity), SUM(overage_micros), SUM(cost_micros) FROM "
                               f"{UsageRecord._meta.db_table} WHERE period = %s GROUP BY metric", [month_start()])
                totals += len(cursor.fetchall())
        aggregate_s = time.perf_counter() - begin
        print(f"period aggregation from the ledger, {args.clients} clients × {args.rows:,} rows: {aggregate_s:.2f} s "
              f"({totals} totals)")

        from apps.billing.selectors import agency_report

        begin = time.perf_counter()
        agency_report(months=6)
        report_s = time.perf_counter() - begin
        print(f"the agency's report (6 months, from the monthly counters): {report_s:.2f} s")

        metered = clients[1]
        BillingAccount.objects.filter(client=metered).update(stripe_customer_id="cus_bench")
        with tenant_context(metered):
            pending = UsageRecord.objects.filter(metered_at__isnull=True, overage_micros__gt=0).count()
        limit = min(args.meter, pending)
        provider = StripeBilling(api_key="sk_test_bench")
        with respx.mock(assert_all_called=False) as mock, tenant_context(metered):
            mock.post("https://api.stripe.com/v1/billing/meter_events").mock(
                return_value=httpx.Response(200, json={"object": "billing.meter_event", "livemode": False}))
            begin = time.perf_counter()
            sent = metering.meter_send(client=metered, provider=provider, batch=500,
                                       max_batches=max(1, limit // 500))
            meter_s = time.perf_counter() - begin
        meter_per_s = sent / meter_s if meter_s else 0.0
        print(f"meter events sent in batches of 500 (Stripe's HTTP answered in-process): {sent:,} in {meter_s:.2f} s"
              f" = {meter_per_s:.0f} /s")
    finally:
        if not args.keep:
            _drop_all()
    emit({"cap_check_p99_ms": round(p99, 3), "cap_check_p50_ms": round(p50, 3),
          "redis_ping_p99_ms": round(ping_p99, 3), "aggregate_s": round(aggregate_s, 2),
          "meter_events_per_s": round(meter_per_s), "usage_record_per_s": round(writes_per_s),
          "agency_report_s": round(report_s, 2), "clients": args.clients, "rows_per_client": args.rows})


if __name__ == "__main__":
    main()
