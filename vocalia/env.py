"""Typed reading of the environment, with the values `make run` chose as defaults.

`scripts/services.py` writes `.data/services.env` (DATABASE_URL, REDIS_URL) when it
starts embedded servers or finds local ones, so every process started from this
checkout (daphne, celery, benches, tests) talks to the same database and Redis.
A variable set in the real environment always wins, except with `VOCALIA_EMBEDDED=1`:
then the embedded servers services.py started win over DATABASE_URL / REDIS_URL.
`VOCALIA_DATA_DIR` moves `.data/` (services.env, the embedded servers, beat's schedule).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("VOCALIA_DATA_DIR") or BASE_DIR / ".data").resolve()
SERVICES_FILE = DATA_DIR / "services.env"
EMBEDDED = os.environ.get("VOCALIA_EMBEDDED", "").strip().lower() in {"1", "true", "yes", "on"}


def _load_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


_SERVICES = _load_file(SERVICES_FILE)
_FILE_VALUES = {**_SERVICES, **_load_file(BASE_DIR / ".env")}
# With VOCALIA_EMBEDDED=1 services.py ignored DATABASE_URL / REDIS_URL; so does everything it started.
_FORCED = {name: _SERVICES[name] for name in ("DATABASE_URL", "REDIS_URL") if EMBEDDED and name in _SERVICES}


def get(name: str, default: str = "") -> str:
    if name in _FORCED:
        return _FORCED[name]
    return os.environ.get(name, _FILE_VALUES.get(name, default))


def get_bool(name: str, default: bool = False) -> bool:
    value = get(name, "")
    if value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def get_int(name: str, default: int) -> int:
    value = get(name, "")
    return int(value) if value.strip() else default


def get_list(name: str, default: list[str]) -> list[str]:
    value = get(name, "")
    if not value.strip():
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]
