"""The embedded PostgreSQL and Redis a machine without servers gets from `make run` (scripts/services.py).

`VOCALIA_EMBEDDED=1` forces them even where local servers answer (this machine, CI), in a temporary
`VOCALIA_DATA_DIR` so the checkout's own .data/ is never touched. Everything runs as `make run` runs it, in
subprocesses with the production settings: services.py, `manage.py migrate_all`, scripts/run.py (daphne, a
Celery worker and beat), a client provisioned through the worker, /readyz, `make clean-services`.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import psutil
import psycopg
import pytest
import redis

from vocalia.settings import redis_url

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SLUG = "embedded-check"
# What the test process inherits from the developer's shell or from settings_test must not leak into the
# production settings of the subprocesses: they read the embedded servers from services.env.
_INHERITED = {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "REDIS_DB_BASE", "CACHE_KEY_PREFIX",
              "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE", "PORT", "WEB_PROCESSES"}
REDIS_DB_BASE = 3  # cache on 3, Celery broker on 4, channel layer on 5: not the default 0, to see each db used


def test_it_keeps_the_empty_authority_of_a_unix_socket_redis_url() -> None:
    assert redis_url("unix:///srv/app/.data/redis.sock", 2) == "unix:///srv/app/.data/redis.sock?db=2"


def test_it_replaces_the_db_of_a_unix_socket_url_and_keeps_its_other_options() -> None:
    assert redis_url("unix:///tmp/r.sock?db=3&password=s3cret", 5) == "unix:///tmp/r.sock?password=s3cret&db=5"


def test_it_replaces_the_db_of_a_tcp_url() -> None:
    assert redis_url("redis://:pw@127.0.0.1:6391/0", 12) == "redis://:pw@127.0.0.1:6391/12"
    assert redis_url("rediss://cache.example:6380?db=1&ssl_cert_reqs=none", 2) == (
        "rediss://cache.example:6380/2?ssl_cert_reqs=none")


@dataclass
class Embedded:
    data: Path
    env: dict[str, str]
    database_url: str
    redis_socket: Path
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([PY, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
        return done.stdout

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        parts = urlparse(self.database_url)
        with psycopg.connect(host=unquote(parts.hostname or ""), dbname=parts.path.lstrip("/"),
                             user="postgres", autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def redis(self, db: int) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.redis_socket), db=db)


def _services_file(data: Path) -> dict[str, str]:
    lines = (data / "services.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


class _Preparation:
    """services.py then `migrate_all`, in the background: tests/conftest.py starts it once collection is done,
    so its ~1 min of CPU (dj-stripe's migrations of the public schema) runs next to the test database's
    own migrations instead of after them. Stopped at the end of the module, or when pytest exits."""

    def __init__(self) -> None:
        self.data = Path(tempfile.mkdtemp(prefix="vocalia-embedded-"))  # not tmp_path, see embedded()
        self.env = {name: value for name, value in os.environ.items() if name not in _INHERITED}
        self.env.update(VOCALIA_EMBEDDED="1", VOCALIA_DATA_DIR=str(self.data), REDIS_DB_BASE=str(REDIS_DB_BASE),
                        DJANGO_SETTINGS_MODULE="vocalia.settings", PYTHONUNBUFFERED="1")
        self.log = self.data / "prepare.log"
        self.started = time.monotonic()
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                ["sh", "-c", '"$0" scripts/services.py && "$0" manage.py migrate_all', PY],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.stopped = False
        atexit.register(self.stop)

    def wait(self, timeout: float = 900) -> float:
        """Seconds from start to done, migrations included."""
        self.process.wait(timeout=timeout)
        assert self.process.returncode == 0, f"services.py / migrate_all failed:\n{self.log.read_text()[-8000:]}"
        return time.monotonic() - self.started

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        subprocess.run([PY, "scripts/services.py", "--stop"], cwd=ROOT, env=self.env, capture_output=True,
                       timeout=60)
        shutil.rmtree(self.data, ignore_errors=True)


_preparation: _Preparation | None = None


def embedded_prepare() -> None:
    global _preparation
    if _preparation is None:
        _preparation = _Preparation()


@pytest.fixture(scope="module")
def embedded() -> Iterator[Embedded]:
    # The data dir is not pytest's tmp_path: as root, PostgreSQL runs as the `pgserver` user, and every pytest
    # session (another checkout's too) makes /tmp/pytest-of-root private again, locking that user out.
    embedded_prepare()
    assert _preparation is not None
    preparation = _preparation
    stack = Embedded(data=preparation.data, env=preparation.env, database_url="",
                     redis_socket=preparation.data / "redis.sock")
    try:
        waited = time.monotonic()
        stack.timings["services + migrate_all"] = preparation.wait()
        stack.timings["waited for them"] = time.monotonic() - waited
        stack.database_url = _services_file(preparation.data)["DATABASE_URL"]
        yield stack
    finally:
        preparation.stop()
        print(f"\nembedded servers: {', '.join(f'{k} {v:.1f} s' for k, v in stack.timings.items())}")


def test_it_starts_embedded_servers_in_the_data_dir_even_where_local_ones_answer(embedded: Embedded) -> None:
    chosen = _services_file(embedded.data)
    assert chosen["REDIS_URL"] == f"unix://{embedded.data}/redis.sock"
    assert unquote(urlparse(chosen["DATABASE_URL"]).hostname or "") == str(embedded.data / "pg")
    assert embedded.sql("SHOW server_version_num")[0][0] >= "160000"
    assert embedded.redis(0).ping() is True


def test_it_migrates_the_public_schema_and_the_template_with_their_extensions(embedded: Embedded) -> None:
    extensions = {row[0] for row in embedded.sql("SELECT extname FROM pg_extension")}
    assert {"pg_trgm", "btree_gist"} <= extensions
    assert embedded.sql("SELECT count(*) FROM public.clients_plan")[0][0] >= 3
    template_tables = {row[0] for row in embedded.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = '_template'")}
    assert {"django_migrations", "agents_agent", "conversations_conversation", "usage_usagecounter"} <= template_tables
    assert not any(name.startswith("djstripe_") for name in template_tables)  # platform tables live in public
    recorded = embedded.sql("SELECT count(*) FROM _template.django_migrations WHERE app = 'djstripe'")[0][0]
    assert recorded == embedded.sql("SELECT count(*) FROM public.django_migrations WHERE app = 'djstripe'")[0][0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait(what: str, check: object, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:.0f} s; scripts/run.py said:\n{log.read_text()[-6000:]}")


def test_it_runs_the_product_provisions_a_client_through_the_worker_and_is_ready(embedded: Embedded) -> None:
    port = _free_port()
    log = embedded.data / "run.log"
    env = dict(embedded.env, PORT=str(port), WEB_PROCESSES="1")
    with open(log, "w") as out:
        runner = subprocess.Popen([PY, "scripts/run.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        _wait("/healthz answered", lambda: _get(f"{base}/healthz")[0] == 200, 60, log)
        embedded.timings["run.py up"] = time.monotonic() - started
        # --async: the client is provisioned by the Celery worker, through the broker on the embedded Redis.
        embedded.run("manage.py", "provision_client", SLUG, "--name", "Embedded Check", "--plan", "pro",
                     "--owner", "owner@embedded.test", "--async", timeout=120)
        _wait("the worker provisioned the client", lambda: embedded.sql(
            "SELECT status FROM public.clients_client WHERE slug = %s", SLUG) == [("active",)], 90, log)
        # Beat sends the heartbeat every 10 s, the worker writes it: /readyz is ok once both flow.
        _wait("/readyz answered 200", lambda: _get(f"{base}/readyz")[0] == 200, 60, log)
        embedded.timings["ready"] = time.monotonic() - started
        status, body = _get(f"{base}/readyz")
        assert {name: check["status"] for name, check in json.loads(body)["checks"].items()} == {
            "database": "ok", "redis": "ok", "worker": "ok", "encryption": "ok"}
        status, page = _get(f"{base}/accounts/login/", host=f"{SLUG}.localhost")
        assert status == 200
        assert "Embedded Check" in page
        schema = embedded.sql("SELECT schema_name FROM public.clients_client WHERE slug = %s", SLUG)[0][0]
        assert embedded.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", schema)[0][0] \
            == embedded.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = '_template'")[0][0]
        assert embedded.redis(REDIS_DB_BASE + 1).exists("_kombu.binding.celery") == 1  # the broker's db
    finally:
        alive = _stop(runner)
    assert alive == [], f"still running after scripts/run.py stopped: {alive}"


def _stop(runner: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """SIGTERM to scripts/run.py (it stops daphne, the worker and beat); what outlives it is killed, and returned."""
    try:
        children = psutil.Process(runner.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    runner.send_signal(signal.SIGTERM)
    try:
        runner.wait(timeout=30)
    except subprocess.TimeoutExpired:
        runner.kill()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    for process in alive:
        process.kill()
    return alive


CACHE_AND_LAYER = """
import asyncio
from django.core.cache import cache
from channels.layers import get_channel_layer
from apps.core.redis import get_redis, platform_key

cache.set("embedded-check", {"n": 1}, 60)
get_redis().set(platform_key("embedded-check"), "raw", ex=60)

async def round_trip():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "check.message", "text": "مرحبا"})
    return await asyncio.wait_for(layer.receive(channel), 5)

print(repr((cache.get("embedded-check"), get_redis().get(platform_key("embedded-check")), asyncio.run(round_trip()))))
"""


def test_it_round_trips_through_the_cache_and_the_channel_layer_on_their_own_dbs(embedded: Embedded) -> None:
    embedded.redis(REDIS_DB_BASE).flushdb()
    out = embedded.run("manage.py", "shell", "-c", CACHE_AND_LAYER, timeout=60)
    assert out.strip().splitlines()[-1] == repr(({"n": 1}, b"raw", {"type": "check.message", "text": "مرحبا"}))
    assert sorted(embedded.redis(REDIS_DB_BASE).keys("*")) == [
        b"public:vocalia:1:embedded-check", b"vocalia:platform:embedded-check"]


def test_it_stops_the_embedded_servers_with_make_clean_services(embedded: Embedded) -> None:
    postmaster = int((embedded.data / "pg" / "postmaster.pid").read_text().split()[0])
    redis_pid = int((embedded.data / "redis.pid").read_text())
    assert psutil.pid_exists(postmaster) and psutil.pid_exists(redis_pid)
    done = subprocess.run(["make", "--no-print-directory", "clean-services"], cwd=ROOT, env=embedded.env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 10
    while (psutil.pid_exists(postmaster) or psutil.pid_exists(redis_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(postmaster)
    assert not psutil.pid_exists(redis_pid)
    assert not (embedded.data / "redis.sock").exists()
    assert not (embedded.data / "services.env").exists()
