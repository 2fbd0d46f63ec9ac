"""Per-request overhead of finding the client, cache warm.

    .venv/bin/python bench/resolve.py [--requests N]

Times ClientResolutionMiddleware (host → client, as every dashboard request) around
an empty view, and the key lookups used by the widget (pk_) and the API (sk_).
Needs the demo data (`make run` or `make demo`).
Last line: {"p50_us": …, "p99_us": …}  (host resolution through the middleware)
"""

from __future__ import annotations

import argparse
import time

from _setup import emit, percentile
from django.http import HttpResponse
from django.test import RequestFactory

from apps.clients import keys, services
from apps.clients.middleware import ClientResolutionMiddleware
from apps.clients.models import ApiKey, Client
from apps.clients.selectors import client_by_publishable_key, client_by_secret_key


def timed(fn, count: int) -> list[float]:
    for _ in range(50):  # warm the cache and the connection
        fn()
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<34} p50 {percentile(samples, 50):7.1f} µs   p99 {percentile(samples, 99):7.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    client = Client.objects.filter(slug="demo").first()
    if client is None:
        raise SystemExit("no demo client: run `make demo` (or `make run`) first")
    host = services.client_primary_host(client)
    middleware = ClientResolutionMiddleware(lambda request: HttpResponse("ok"))
    factory = RequestFactory()

    def by_host() -> None:
        response = middleware(factory.get("/", HTTP_HOST=f"{host}:8000"))
        assert response.status_code == 200

    def baseline() -> None:
        factory.get("/", HTTP_HOST=f"{host}:8000")

    pk = ApiKey.objects.filter(client=client, kind=ApiKey.Kind.PUBLISHABLE, revoked_at__isnull=True).first().lookup
    lookup, sk = keys.secret_new()  # a throw-away key, removed at the end
    bench_key = ApiKey.objects.create(client=client, kind=ApiKey.Kind.SECRET, lookup=lookup,
                                      secret_hash=keys.secret_hash(sk), label="bench")
    try:
        measure(by_host, baseline, pk, sk, args.requests)
    finally:
        bench_key.delete()


def measure(by_host, baseline, pk: str, sk: str, count: int) -> None:
    args = argparse.Namespace(requests=count)
    samples_host = timed(by_host, args.requests)
    samples_base = timed(baseline, args.requests)
    samples_pk = timed(lambda: client_by_publishable_key(pk), args.requests)
    samples_sk = timed(lambda: client_by_secret_key(sk), args.requests)
    overhead = [max(0.0, h - b) for h, b in zip(sorted(samples_host), sorted(samples_base), strict=False)]
    report("request object alone (baseline)", samples_base)
    report("host → client (middleware)", samples_host)
    report("pk_ → client (widget)", samples_pk)
    report("sk_ → client (API, with HMAC)", samples_sk)
    print(f"resolution overhead over baseline: p50 {percentile(overhead, 50):.1f} µs")
    emit({"p50_us": round(percentile(samples_host, 50), 1), "p99_us": round(percentile(samples_host, 99), 1),
          "pk_p50_us": round(percentile(samples_pk, 50), 1), "sk_p50_us": round(percentile(samples_sk, 50), 1)})


if __name__ == "__main__":
    main()
