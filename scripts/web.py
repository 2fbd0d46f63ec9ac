"""Several daphne processes on one listening socket: the kernel spreads connections between them.

One daphne process runs Python on one core at a time; `WEB_PROCESSES` (default: the number of cores)
processes share the port. Used by `make run` (scripts/run.py) and bench/widget.py.

Each process refuses a WebSocket message (or frame) over WEBSOCKET_MAX_MESSAGE_BYTES while it arrives,
closing with 1009 (scripts/daphne_serve.py): it never buffers more than that for one client
(apps/core/sockets.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def web_processes() -> int:
    return int(os.environ.get("WEB_PROCESSES") or os.cpu_count() or 1)


def listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def daphne_limits() -> list[str]:
    """Daphne's options for the size of WebSocket messages, from the settings (one number for both)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocalia.settings")
    from django.conf import settings

    limit = str(settings.WEBSOCKET_MAX_MESSAGE_BYTES)
    return ["--websocket-max-message-size", limit, "--websocket-max-frame-size", limit]


def start_daphne(sock: socket.socket, count: int, **popen: Any) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "scripts.daphne_serve", "--fd", str(sock.fileno()), *daphne_limits(),
               "vocalia.asgi:application"]
    return [subprocess.Popen(command, cwd=ROOT, pass_fds=(sock.fileno(),), **popen) for _ in range(count)]
