"""The widget API under load, over loopback: chat turns per second and latency, config latency, bundle size.

    .venv/bin/python bench/widget.py [--turns N] [--concurrency C]

Starts its own daphne on a free port against the `make run` database and Redis, with a throw-away
client (an unlimited plan, so rate limits do not cap the measure) whose agent uses the built-in
engine, then sends JSON chat turns from C concurrent connections.
Last line: {"turns_per_s": …, "p50_ms": …, "p99_ms": …, "config_p99_ms": …, "bundle_gz_bytes": …}
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import socket
import subprocess
import time
from pathlib import Path

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from cryptography.fernet import Fernet
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.clients.models import ApiKey, Plan
from apps.knowledge.services import documents_import
from apps.widget.services import widget_origins_set
from scripts.web import listen, start_daphne, web_processes

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = "https://bench.example"
QUESTIONS = ["Bonjour", "Quels sont vos horaires ?", "Acceptez-vous la carte bancaire ?", "Où êtes-vous situés ?",
             "Y a-t-il un parking ?"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def run_load(base: str, key: str, turns: int, concurrency: int) -> tuple[list[float], list[float], float]:
    import httpx

    headers = {"X-Vocalia-Key": key, "Origin": ORIGIN, "Accept": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        config_times = []
        for number in range(1100):  # the first 100 warm the processes up (connections, caches) and are not counted
            started = time.perf_counter()
            response = await http.get("/widget/v1/config")
            if number >= 100:
                config_times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
        tokens = []
        for n in range(concurrency):
            response = await http.post("/widget/v1/conversations", json={"language": "fr", "visitor": f"b{n}"})
            assert response.status_code == 201, response.text
            tokens.append(response.json()["token"])
        samples: list[float] = []
        counter = iter(range(turns))

        async def worker(token: str) -> None:
            for number in counter:
                started = time.perf_counter()
                response = await http.post("/widget/v1/messages", json={"text": QUESTIONS[number % len(QUESTIONS)]},
                                           headers={"X-Vocalia-Token": token})
                assert response.status_code == 200, response.text
                samples.append((time.perf_counter() - started) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker(token) for token in tokens))
        elapsed = time.perf_counter() - began
    return samples, config_times, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--processes", type=int, default=web_processes(), help="daphne processes (WEB_PROCESSES)")
    args = parser.parse_args()
    bundle = (ROOT / "static" / "widget" / "vocalia.js").read_bytes()
    bundle_gz = len(gzip.compress(bundle, 9))
    plan, _ = Plan.objects.update_or_create(code="bench-unlimited", defaults={
        "name": "Bench", "features": Plan.objects.get(code="telephony").features, "requests_per_minute": 10**6,
        "monthly_conversations": 10**7, "is_public": False, "sort_order": 99})
    with bench_client("bench-widget", plan="bench-unlimited") as client:
        widget_origins_set(client=client, origins=[ORIGIN])
        with tenant_context(client):
            Agent.objects.create(name="Bench", languages=["fr"], default_language="fr", tools=list(TOOLS),
                                 texts={"fr": {"greeting": "Bonjour !", "closing": "Au revoir"}})
            documents_import(rows=[
                {"title": "Horaires", "text": "Ouvert du lundi au vendredi de 9h à 18h, le samedi de 9h à 12h."},
                {"title": "Paiement", "text": "Nous acceptons la carte bancaire, les espèces et les chèques."},
                {"title": "Accès", "text": "12 rue de la République à Lyon, métro Cordeliers, parking à 100 m."}],
                language="fr")
        key = ApiKey.objects.get(client=client, kind=ApiKey.Kind.PUBLISHABLE, revoked_at__isnull=True).lookup
        port = free_port()
        # Production settings: DEBUG off (no query log), a throw-away encryption key (the bench agent has no secret).
        env = dict(os.environ, WIDGET_VISITOR_MESSAGES_PER_MINUTE="100000000", LOG_LEVEL="WARNING",
                   DJANGO_SETTINGS_MODULE="vocalia.settings", DEBUG="false", SECRET_KEY="bench-" + "x" * 50,
                   FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), ALLOWED_HOSTS="127.0.0.1,localhost")
        listening = listen("127.0.0.1", port)
        servers = start_daphne(listening, args.processes, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            samples, config_times, elapsed = asyncio.run(
                run_load(f"http://127.0.0.1:{port}", key, args.turns, args.concurrency))
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            listening.close()
    Plan.objects.filter(code="bench-unlimited").delete()
    rate = len(samples) / elapsed
    print(f"{len(samples)} chat turns from {args.concurrency} connections to {args.processes} daphne processes "
          f"in {elapsed:.1f} s: {rate:.0f} turns/s")
    print(f"turn latency p50 {percentile(samples, 50):.1f} ms, p99 {percentile(samples, 99):.1f} ms")
    print(f"config latency p50 {percentile(config_times, 50):.2f} ms, p99 {percentile(config_times, 99):.2f} ms")
    print(f"widget bundle {len(bundle)} bytes, {bundle_gz} bytes gzipped")
    emit({"turns_per_s": round(rate, 1), "p50_ms": round(percentile(samples, 50), 2),
          "p99_ms": round(percentile(samples, 99), 2), "config_p99_ms": round(percentile(config_times, 99), 2),
          "bundle_gz_bytes": bundle_gz})


if __name__ == "__main__":
    main()
