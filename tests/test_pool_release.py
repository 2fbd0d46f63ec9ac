"""A failing request always gives its database connection back to the pool.

A real daphne server (DEBUG on, as in development, where the debug error page itself once failed on a
lone surrogate) with a pool of two connections: more bad requests than the pool holds, then a good
one, which must answer at once. Before the fix each bad request kept its connection and the good one
waited for the pool's timeout, then failed.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import ROOT, _free_port, _test_database_url

POOL_SIZE = 2
BAD_REQUESTS = 3 * POOL_SIZE


@pytest.fixture(scope="module")
def small_pool_server(session_cast, django_db_blocker) -> Iterator[tuple[int, object]]:
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vocalia.settings_test", DATABASE_URL=_test_database_url(),
               DEBUG="true", DB_POOL_MAX=str(POOL_SIZE), DB_POOL_TIMEOUT_S="4", LOG_LEVEL="CRITICAL")
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "vocalia.asgi:application"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=0.5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("daphne exited") from None
            time.sleep(0.1)
    yield port, session_cast
    server.terminate()
    server.wait(timeout=10)
    from django_tenants.utils import tenant_context

    from apps.crm.models import Lead
    from apps.widget.models import WidgetRejection, WidgetSighting

    with django_db_blocker.unblock():
        WidgetSighting.objects.filter(client=session_cast.client_a).delete()
        WidgetRejection.objects.filter(client=session_cast.client_a).delete()
        with tenant_context(session_cast.client_a):
            Lead.objects.all().delete()


def _post(port: int, path: str, body: bytes, headers: dict[str, str], timeout: float = 8) -> tuple[int, bytes, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    content = response.read()
    connection.close()
    return response.status, content, time.monotonic() - started


@pytest.mark.parametrize("bad_body", [
    b'{"page": "a\\ud800b"}',  # a lone surrogate, escaped in JSON
    b'{"page": "a\\u0000b", "x": "\\udfff"}',
    b"[" * 5000 + b"]" * 5000,
])
def test_it_gives_every_connection_back_after_bad_requests(small_pool_server, bad_body):
    port, cast = small_pool_server
    headers = {"X-Vocalia-Key": cast.pk_a, "Origin": "http://alpha.localhost", "Host": "localhost"}
    for _ in range(BAD_REQUESTS):
        status, content, _elapsed = _post(port, "/widget/v1/seen", bad_body, headers)
        assert status == 400, content
        assert json.loads(content)["error"]["code"] == "invalid_input"
    status, content, elapsed = _post(port, "/widget/v1/seen", json.dumps({"page": "https://alpha/ok"}).encode(),
                                     headers)
    assert (status, json.loads(content)) == (200, {"ok": True})
    assert elapsed < 2, f"the good request waited {elapsed:.1f} s for a connection"


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=8) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("request_line, headers", [
    (b"GET /widget/v1/config?key=\xff\xfe HTTP/1.1", b""),  # raw invalid UTF-8 in the query string
    (b"GET /widget/v1/config?key=%ff%fe HTTP/1.1", b""),
    (b"GET /widget/v1/config HTTP/1.1", b"Origin: http://[::1\r\n"),  # a malformed IPv6 origin
    (b"POST /widget/v1/seen HTTP/1.1", b"Origin: http://[::1\r\nContent-Length: 2\r\n"),
])
def test_it_answers_raw_bad_requests_with_4xx_and_keeps_the_pool(small_pool_server, request_line, headers):
    port, cast = small_pool_server
    for _ in range(BAD_REQUESTS):
        answer = _raw(port, request_line + b"\r\nHost: localhost\r\nX-Vocalia-Key: " + cast.pk_a.encode()
                      + b"\r\n" + headers + b"Connection: close\r\n\r\n" + (b"{}" if b"POST" in request_line
                                                                             else b""))
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, answer[:300]
    headers_ok = {"X-Vocalia-Key": cast.pk_a, "Origin": "http://alpha.localhost", "Host": "localhost"}
    status, _content, elapsed = _post(port, "/widget/v1/seen", b'{"page": "ok"}', headers_ok)
    assert status == 200 and elapsed < 2


def test_it_survives_the_fuzz_corpus_through_daphne(small_pool_server):
    """A sample of tests/test_fuzz_http.py's corpus, sent as raw HTTP to the real ASGI stack (the widget's own
    handler, DEBUG on): below 500 every time, and the pool still serves the next good request at once."""
    import random

    from tests.test_fuzz_http import SEED, Endpoint, _mutations

    port, cast = small_pool_server
    rng = random.Random(SEED)
    base = {"HTTP_X_VOCALIA_KEY": cast.pk_a, "HTTP_ORIGIN": "http://alpha.localhost"}
    sent = 0
    for endpoint in (Endpoint("widget-seen", "POST", "/widget/v1/seen", {"page": "https://alpha/p"}),
                     Endpoint("widget-leads", "POST", "/widget/v1/leads", {"name": "Marie", "message": "Devis"}),
                     Endpoint("widget-config", "GET", "/widget/v1/config")):
        corpus = [case for case in _mutations(rng, endpoint) if case[0] != "length"]
        for _kind, body, headers, query in rng.sample(corpus, min(len(corpus), 120)):
            meta = {**base, **headers}
            lines = [f"{endpoint.method} {endpoint.path}{query} HTTP/1.1".encode(), b"Host: localhost"]
            for name, value in meta.items():
                header = name.removeprefix("HTTP_").replace("_", "-").title()
                lines.append(header.encode() + b": " + value.encode("utf-8", "surrogatepass"))
            data = b"" if endpoint.method == "GET" else (
                json.dumps(endpoint.body).encode() if body is None else body)
            lines += [b"Content-Type: application/json", f"Content-Length: {len(data)}".encode(),
                      b"Connection: close", b"", data]
            answer = _raw(port, b"\r\n".join(lines))
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 400
            assert status < 500, (endpoint.name, body and body[:120], headers, query, answer[:400])
            sent += 1
    headers_ok = {"X-Vocalia-Key": cast.pk_a, "Origin": "http://alpha.localhost", "Host": "localhost"}
    status, _content, elapsed = _post(port, "/widget/v1/seen", b'{"page": "ok"}', headers_ok)
    assert status == 200 and elapsed < 2
    print(f"\nthrough daphne: {sent} requests")
    assert sent >= 250


async def test_it_finishes_the_request_even_when_the_error_page_fails(monkeypatch, settings):
    """In-process, the widget's ASGI handler: a view fails, then the debug page fails too. The client still
    gets a 500, and `request_finished` (which gives the request's connection back to the pool) still fires."""
    from asgiref.testing import ApplicationCommunicator
    from django.core.handlers.asgi import ASGIHandler
    from django.core.signals import request_finished
    from django.test.utils import override_settings
    from django.views import debug

    from apps.widget import views

    def failing(request, *, limit_scope):
        page = "a\ud800b"
        raise RuntimeError(page)

    def failing_page(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "a\ud800b", 1, 2, "surrogates not allowed")

    settings.DEBUG = True
    monkeypatch.setattr(views, "_authorise", failing)
    monkeypatch.setattr(debug, "technical_500_response", failing_page)
    finished: list[bool] = []

    def on_finished(**kwargs):
        finished.append(True)

    request_finished.connect(on_finished)
    try:
        with override_settings(MIDDLEWARE=settings.WIDGET_MIDDLEWARE):
            handler = ASGIHandler()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "path": "/widget/v1/seen", "raw_path": b"/widget/v1/seen", "query_string": b"", "root_path": "",
                 "scheme": "http", "headers": [(b"host", b"localhost"), (b"origin", b"https://shop.example"),
                                               (b"content-type", b"application/json")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        communicator = ApplicationCommunicator(handler, scope)
        await communicator.send_input({"type": "http.request", "body": b"{}", "more_body": False})
        start = await communicator.receive_output(10)
        body = await communicator.receive_output(10)
        await communicator.wait(10)
    finally:
        request_finished.disconnect(on_finished)
    assert start["status"] == 500
    assert json.loads(body["body"])["error"]["code"] == "server_error"
    assert finished == [True]
