"""Outbound webhooks under load: a local receiver, two real Celery workers, the beat's sweeper.

    .venv/bin/python bench/webhooks.py [--events N] [--rate R]

Against the `make run` database and Redis, with a throw-away client and one endpoint pointing at a receiver
on 127.0.0.1 (a separate process: a threaded HTTP server that logs each webhook-id and when it arrived).
Phase 1: N events at R a second to a healthy receiver: deliveries per second, event → delivery latency.
Phase 2: the same with one worker SIGKILLed (its whole process group) mid-way and restarted: events never
delivered (lost) and deliveries received twice (duplicates: at-least-once, same webhook-id).
Phase 3: N events written while both workers are stopped, then the workers started: deliveries per second
from the first to the last (the workers' own pace, with the producer out of the way).
Load-independent figures: the worker processes' CPU time per delivery in phase 1 (from /proc), and, after the
phases, SQL statements and CPU per event and per delivery measured in this process (events recorded, then
drained here, the statements counted with an execute wrapper).
Last line: {"deliveries_per_s": …, "p99_s": …, "lost": …, "duplicates": …, …}
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_URLS", "1")  # the receiver is on loopback: the operator setting
os.environ.setdefault("WEBHOOKS_ALLOW_HTTP", "1")
os.environ.setdefault("WEBHOOK_LEASE_S", "5")
os.environ.setdefault("WEBHOOK_KICK_GRACE_S", "3")
os.environ.setdefault("WEBHOOK_REQUEUE_S", "30")
os.environ.setdefault("WEBHOOK_SWEEP_INTERVAL_S", "1")

import _setup  # noqa: E402,F401
from _clients import bench_client  # noqa: E402
from _setup import emit, percentile  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402

from apps.events import signing  # noqa: E402
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint  # noqa: E402
from apps.events.services import event_record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RECEIVER = '''
import sys, time, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
log = open(sys.argv[1], "a", buffering=1)
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the answer is written in two pieces: without it each waits a delayed ACK
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        with lock:
            log.write(f"{self.headers.get('webhook-id')} {time.time():.6f}\\n")
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
ThreadingHTTPServer.daemon_threads = True
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
'''


def start_worker(name: str, env: dict[str, str], log: object, concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "vocalia", "worker", "--pool", "prefork", "--concurrency",
         str(concurrency), "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
         "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_beat(env: dict[str, str], log: object, directory: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "vocalia", "beat", "--loglevel", "WARNING",
         "-s", str(Path(directory) / "beat-schedule")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def cpu_seconds(leaders: list[subprocess.Popen]) -> float:
    """User + system CPU of every process in these process groups (a worker and its pool's children)."""
    sessions = {process.pid for process in leaders}
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in sessions:  # the process group id (each worker leads its own)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def statements_per_delivery(client: object, count: int = 200) -> dict[str, float]:
    """Record `count` events and drain them in this process (no worker, no kick): statements and CPU each."""
    from unittest import mock

    from django.db import connection

    from apps.events import outbox, sending

    statements = [0]

    def counted(execute, sql, params, many, context):  # noqa: ANN001, ANN202 - Django's wrapper signature
        statements[0] += 1
        return execute(sql, params, many, context)

    with tenant_context(client), mock.patch.object(outbox, "kick_now"), mock.patch.object(outbox, "drain_queue"), \
            connection.execute_wrapper(counted):
        started = time.process_time()
        for number in range(count):
            event_record(type="ticket.created", data={
                "id": number, "conversation_id": None, "subject": f"count {number}", "description": "",
                "priority": "normal", "status": "open", "contact": "", "created": timezone.now().isoformat()})
        produced = (statements[0], time.process_time() - started)
        statements[0], started = 0, time.process_time()
        drained = 0
        while True:
            claimed = sending.deliveries_drain()
            drained += claimed
            if not claimed:
                break
        sent = (statements[0], time.process_time() - started)
    return {"sql_per_event": round(produced[0] / count, 2), "cpu_ms_per_event": round(produced[1] * 1000 / count, 2),
            "sql_per_delivery": round(sent[0] / max(drained, 1), 2),
            "cpu_ms_per_delivery_in_process": round(sent[1] * 1000 / max(drained, 1), 2)}


def received(path: Path) -> list[tuple[str, float]]:
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            rows.append((parts[0], float(parts[1])))
    return rows


def produce(client: object, count: int, rate: float, label: str, on_half: object = None,
            producers: int = 1) -> dict[str, float]:
    """`count` events at `rate` a second from `producers` threads (each its own DB connection, as concurrent
    requests would be); their ids → creation time (epoch seconds)."""
    from django.db import connection

    created: dict[str, float] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def run(offset: int) -> None:
        try:
            with tenant_context(client):
                for number in range(offset, count, producers):
                    pause = started + number / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    event = event_record(type="ticket.created", data={
                        "id": number, "conversation_id": None, "subject": f"{label} {number}", "description": "",
                        "priority": "normal", "status": "open", "contact": "",
                        "created": timezone.now().isoformat()})
                    with lock:
                        created[event.public_id] = event.created.timestamp()
                    if on_half is not None and number == count // 2:
                        on_half()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(offset,)) for offset in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return created


def wait_for(log_path: Path, ids: set[str], seconds: float) -> list[tuple[str, float]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = received(log_path)
        if ids <= {event_id for event_id, _at in rows}:
            return rows
        time.sleep(0.5)
    return received(log_path)


def figures(created: dict[str, float], rows: list[tuple[str, float]]) -> dict[str, float]:
    mine = [(event_id, at) for event_id, at in rows if event_id in created]
    first: dict[str, float] = {}
    for event_id, at in mine:
        first[event_id] = min(at, first.get(event_id, at))
    latencies = [first[event_id] - created[event_id] for event_id in first]
    counts = Counter(event_id for event_id, _at in mine)
    span = max(first.values()) - min(created.values()) if first else float("inf")
    by_creation = [first[event_id] - created[event_id] for event_id in sorted(first, key=created.__getitem__)]
    fifth = max(1, len(by_creation) // 5)
    fifths = [round(percentile(by_creation[n:n + fifth], 99), 2) for n in range(0, len(by_creation), fifth)]
    return {"delivered": len(first), "lost": len(set(created) - set(first)), "p99_by_fifth_s": fifths,
            "duplicates": sum(count - 1 for count in counts.values()),
            "deliveries_per_s": round(len(first) / span, 1) if span else 0.0,
            "p50_s": round(percentile(latencies, 50), 3) if latencies else None,
            "p99_s": round(percentile(latencies, 99), 3) if latencies else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    parser.add_argument("--producers", type=int, default=8, help="threads writing events")
    parser.add_argument("--db-pool-max", type=int, default=0, help="the workers' DB_POOL_MAX (0: no pool)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bench-webhooks-")
    log_path = Path(work) / "received.log"
    log_path.touch()
    env = dict(os.environ, DB_POOL_MAX=str(args.db_pool_max))  # 0: one connection per process (docs/webhooks.md)
    with bench_client("bench-webhooks", plan="telephony") as client, open(Path(work) / "processes.log", "w") as log:
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(log_path)], stdout=subprocess.PIPE,
                                    text=True, start_new_session=True)
        port = int(receiver.stdout.readline())
        with tenant_context(client):
            WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/hook", secret_encrypted=signing.secret_new(),
                                           rate_per_second=1000)
        workers = [start_worker(f"bench{n}", env, log, args.concurrency) for n in (1, 2)]
        print(f"work directory {work}")
        beat = start_beat(env, log, work)
        try:
            print(f"receiver on 127.0.0.1:{port}; 2 workers × {args.concurrency} processes; beat sweeping every 1 s")
            warm = produce(client, 300, 150, "warm-up", producers=args.producers)  # every worker process busy once
            wait_for(log_path, set(warm), 60)

            print(f"phase 1: {args.events} events at {args.rate:g}/s ({args.producers} producer threads) to a "
                  "healthy receiver")
            cpu_before, started = cpu_seconds(workers), time.monotonic()
            healthy = produce(client, args.events, args.rate, "healthy", producers=args.producers)
            produced_per_s = args.events / (time.monotonic() - started)
            rows = wait_for(log_path, set(healthy), 120)
            one = figures(healthy, rows)
            worker_cpu_ms = (cpu_seconds(workers) - cpu_before) * 1000 / max(one["delivered"], 1)
            print(f"  produced {produced_per_s:.0f} events/s; delivered {one['delivered']}/{args.events}, "
                  f"{one['deliveries_per_s']}/s, p50 {one['p50_s']} s, p99 {one['p99_s']} s, lost {one['lost']}, "
                  f"duplicates {one['duplicates']}; p99 by fifth {one['p99_by_fifth_s']}; "
                  f"workers' CPU {worker_cpu_ms:.2f} ms per delivery; "
                  f"load average {os.getloadavg()[0]:.2f}")

            print(f"phase 2: {args.events} events, worker 1 SIGKILLed half-way and restarted 2 s later")

            def kill_and_restart() -> None:
                def later() -> None:
                    os.killpg(workers[0].pid, signal.SIGKILL)
                    workers[0].wait()
                    time.sleep(2)
                    workers[0] = start_worker("bench1b", env, log, args.concurrency)
                threading.Thread(target=later, daemon=True).start()

            killed = produce(client, args.events, args.rate, "killed", on_half=kill_and_restart,
                             producers=args.producers)
            wait_for(log_path, set(killed), 180)
            with tenant_context(client):  # the tries the killed worker sent but never recorded go again: count them
                deadline = time.monotonic() + 60
                while WebhookDelivery.objects.filter(event__public_id__in=list(killed), status="pending").exists() \
                        and time.monotonic() < deadline:
                    time.sleep(0.5)
                states = Counter(WebhookDelivery.objects.filter(event__public_id__in=list(killed))
                                 .values_list("status", flat=True))
            two = figures(killed, received(log_path))
            print(f"  delivered {two['delivered']}/{args.events}, lost {two['lost']}, duplicates "
                  f"{two['duplicates']}, p99 {two['p99_s']} s (includes the lease running out); rows {dict(states)}")

            print(f"phase 3: {args.events} events written while the workers are stopped, then the workers started: "
                  "how fast they clear a backlog (the producer out of the way)")
            for process in workers:
                stop(process)
            backlog = produce(client, args.events, 10_000, "backlog", producers=args.producers)
            workers[:] = [start_worker(f"bench{n}c", env, log, args.concurrency) for n in (1, 2)]
            rows = wait_for(log_path, set(backlog), 180)
            arrivals = sorted(at for event_id, at in rows if event_id in backlog)
            backlog_per_s = round(len(arrivals) / (arrivals[-1] - arrivals[0]), 1) if len(arrivals) > 1 else 0.0
            print(f"  delivered {len(set(backlog) & {event_id for event_id, _at in rows})}/{args.events}, "
                  f"{backlog_per_s}/s from the first delivery to the last; load average {os.getloadavg()[0]:.2f}")
        finally:
            for process in [*workers, beat]:
                stop(process)
        try:
            counted = statements_per_delivery(client)
            print(f"in this process: {counted}")
        finally:
            stop(receiver)
            with tenant_context(client):
                Event.objects.all().delete()
    emit({"deliveries_per_s": one["deliveries_per_s"], "p99_s": one["p99_s"], "p50_s": one["p50_s"],
          "lost": two["lost"] + one["lost"], "duplicates": two["duplicates"] + one["duplicates"],
          "killed_run_p99_s": two["p99_s"], "events_per_phase": args.events,
          "produced_per_s": round(produced_per_s, 1), "backlog_deliveries_per_s": backlog_per_s,
          "worker_cpu_ms_per_delivery": round(worker_cpu_ms, 2),
          **counted, "load_average": round(os.getloadavg()[0], 2),
          "at": datetime.now().isoformat(timespec="seconds")})


if __name__ == "__main__":
    main()
