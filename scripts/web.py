"""Several daphne processes on one listening socket: the kernel spreads connections between them.

One daphne process runs Python on one core at a time; `WEB_PROCESSES` (default: the number of cores)
processes share the port. Used by `make run` (scripts/run.py) and bench/widget.py.
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


def start_daphne(sock: socket.socket, count: int, **popen: Any) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "vocalia.asgi:application"]
    return [subprocess.Popen(command, cwd=ROOT, pass_fds=(sock.fileno(),), **popen) for _ in range(count)]
