"""The WebSocket size limit at the server: daphne as `make run` starts it (scripts/web.py), a raw client.

A frame announcing several megabytes is refused with 1009 as soon as its header arrives, before the
client has sent its payload: the server never buffers it, and the process goes on serving.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection

from scripts.web import listen, start_daphne

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def daphne_port(session_cast: object) -> Iterator[int]:
    parts = urlparse(settings.DATABASE_URL)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vocalia.settings_test",
               DATABASE_URL=urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"])))
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / "daphne-limits.log", "w") as log:
        [server] = start_daphne(sock, 1, env=env, stdout=log, stderr=log)
    sock.close()
    deadline = time.monotonic() + 30
    while _handshake(port, "/ws/nowhere/")[0] == b"":  # the socket listens already: wait for an answer
        assert server.poll() is None and time.monotonic() < deadline, "see tests/artifacts/daphne-limits.log"
        time.sleep(0.2)
    yield port
    server.terminate()
    server.wait(timeout=10)


def _handshake(port: int, path: str, *, host: str = "localhost", origin: str = "http://alpha.localhost"
               ) -> tuple[bytes, socket.socket | None]:
    """The status line of a WebSocket handshake to `path`, and the open socket when it was accepted."""
    key = base64.b64encode(os.urandom(16)).decode()
    response = b""
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        while b"\r\n\r\n" not in response:
            chunk = conn.recv(4096)
            if not chunk:
                break
            response += chunk
    except OSError:
        return b"", None
    status = response.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        conn.close()
        return status, None
    return status, conn


def _frame_header(opcode: int, length: int) -> bytes:
    """A final, masked client frame header announcing `length` bytes (64-bit length form)."""
    return struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length) + b"\0\0\0\0"  # mask 0: payload as is


def _close_code(conn: socket.socket) -> int:
    data = b""
    while len(data) < 4:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    assert data[0] == 0x88, data[:16]  # a close frame
    return struct.unpack("!H", data[2:4])[0]


@pytest.mark.parametrize("opcode", [0x1, 0x2], ids=["text", "binary"])
def test_daphne_refuses_a_frame_of_several_megabytes_before_its_payload(daphne_port, session_cast, opcode):
    status, conn = _handshake(daphne_port, f"/ws/widget/v1/voice/?key={session_cast.pk_a}")
    assert conn is not None, status
    conn.sendall(_frame_header(opcode, 8 * 1024 * 1024) + b"x" * 1024)  # 8 MB announced, 1 KB sent
    assert _close_code(conn) == 1009
    conn.close()
    status, again = _handshake(daphne_port, f"/ws/widget/v1/voice/?key={session_cast.pk_a}")
    assert again is not None, status  # the process is unharmed
    again.close()


def test_daphne_refuses_a_foreign_origin_on_the_dashboard_socket_with_403(daphne_port):
    status, conn = _handshake(daphne_port, "/ws/dashboard/live/", host="alpha.localhost", origin="https://evil.example")
    assert conn is None and status.startswith(b"HTTP/1.1 403")


def test_the_daphne_of_make_run_is_given_the_settings_limit():
    from scripts.web import daphne_limits

    limit = str(settings.WEBSOCKET_MAX_MESSAGE_BYTES)
    assert daphne_limits() == ["--websocket-max-message-size", limit, "--websocket-max-frame-size", limit]
