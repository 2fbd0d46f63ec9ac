"""The one HTTP call to a client's webhook receiver, with the SSRF guard.

Why here and not a provider kind in apps/integrations: a provider is an outside service we talk to on the
client's behalf, chosen per client, with an offline twin standing in for it. A webhook POST is our own feature:
the receiver is the client's URL, there is nothing to choose between, and an "offline twin" would only be a
mock of our own logic. Tests replace the network at this seam (a real local receiver, allowed by the
test-only/operator setting WEBHOOKS_ALLOW_PRIVATE_URLS), exactly as the brief's "replace only the network".

SSRF: the guard sits where a connection is opened (`_GuardedBackend.connect_tcp`, under the connection pool): the
host is resolved (kept WEBHOOK_DNS_TTL_S per process), every address checked (no loopback, private, link-local,
metadata, CGNAT, multicast or reserved address — anything not globally routable), the socket connected to that
checked address, and the peer it reached checked again. The URL keeps the name, so the Host header, TLS SNI and
certificate check are the name's, and a DNS answer that changes between check and connect (rebinding) cannot
redirect the request. Connections are pooled per worker process and keyed by scheme, name and port (a TLS
connection checked for one name is never reused for another); redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpcore
from django.conf import settings

EXCERPT_BYTES = 4096


class AddressRefused(Exception):
    """The URL leads to an address webhooks may not reach (or nowhere)."""


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    excerpt: str = ""
    latency_ms: int = 0
    error: str = ""


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return True
    return address.is_global and not address.is_multicast


def url_problem(url: str) -> str | None:
    """Why this URL may not be an endpoint, checked without the network (None: fine). The addresses a name
    resolves to are checked at each delivery."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "invalid"
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return "scheme"
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        return "https"
    if parts.username or parts.password:
        return "credentials"
    if port == 0:
        return "invalid"
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal):
        return "private"
    if literal is None and (host == "localhost" or host.endswith((".localhost", ".local", ".internal"))) \
            and not settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return "private"
    return None


_RESOLVED: dict[tuple[str, int], tuple[float, list[str]]] = {}


def dns_forget() -> None:
    """Drop the resolved addresses kept by this process and close its pooled connections (tests)."""
    _RESOLVED.clear()
    for pool in _POOLS.values():
        pool.close()
    _POOLS.clear()


def _resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, kept for WEBHOOK_DNS_TTL_S (checked at every connect, not here)."""
    kept = _RESOLVED.get((host, port))
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise AddressRefused(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0].split("%")[0] for info in infos]
    if not addresses:
        raise AddressRefused(f"{host} has no address")
    _RESOLVED[(host, port)] = (time.monotonic() + settings.WEBHOOK_DNS_TTL_S, addresses)
    return addresses


def resolve_checked(host: str, port: int) -> str:
    """One address `host` resolves to, every one of them checked; AddressRefused otherwise."""
    addresses = _resolve(host, port)
    for address in addresses:
        if not address_allowed(ipaddress.ip_address(address)):
            raise AddressRefused(f"{host} resolves to {address}, a private or reserved address")
    return addresses[0]


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to checked addresses (see the module's docstring)."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        address = resolve_checked(host, port)
        stream = super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                     socket_options=socket_options)
        peer = str(stream.get_extra_info("server_addr")[0])
        if not address_allowed(ipaddress.ip_address(peer.split("%")[0])):
            stream.close()
            raise AddressRefused(f"{host} connected to {peer}, a private or reserved address")
        return stream


def post(url: str, *, body: bytes, headers: dict[str, str], timeout_s: float | None = None) -> Answer:
    """POST `body` to `url` through the guard; never raises for the receiver's failures (see Answer.error)."""
    timeout_s = timeout_s if timeout_s is not None else settings.WEBHOOK_TIMEOUT_S
    started = time.monotonic()
    problem = url_problem(url)
    if problem:
        return Answer(status=None, error=f"refused URL ({problem})")
    try:
        with _pool().stream("POST", url, content=body, headers=list(headers.items()), extensions={"timeout": {
                "connect": timeout_s, "read": timeout_s, "write": timeout_s, "pool": timeout_s}}) as response:
            excerpt = b""
            for chunk in response.iter_stream():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES or time.monotonic() - started > timeout_s:
                    break
            return Answer(status=response.status, headers={
                key.decode("latin-1").lower(): value.decode("latin-1") for key, value in response.headers},
                excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace"),
                latency_ms=int((time.monotonic() - started) * 1000))
    except AddressRefused as error:
        return Answer(status=None, error=str(error)[:300], latency_ms=int((time.monotonic() - started) * 1000))
    except httpcore.TimeoutException:
        return Answer(status=None, error=f"timed out after {timeout_s:g} s",
                      latency_ms=int((time.monotonic() - started) * 1000))
    except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as error:
        return Answer(status=None, error=f"{type(error).__name__}: {error}"[:300],
                      latency_ms=int((time.monotonic() - started) * 1000))


_POOLS: dict[bool, httpcore.ConnectionPool] = {}


def _pool() -> httpcore.ConnectionPool:
    """This process's connection pool (thread-safe: a drain's threads share it), every new connection made by
    `_GuardedBackend`. Keyed by the guard's setting, so a connection opened while private addresses were
    allowed is never reused after. httpcore (under httpx, pinned with it) rather than an httpx.Client: the same
    pool for a third of the CPU per request, and it takes the network backend as an argument."""
    allow_private = bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)
    pool = _POOLS.get(allow_private)
    if pool is None:
        pool = _POOLS[allow_private] = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),  # httpx's CA bundle, as before
            max_connections=100, max_keepalive_connections=50, keepalive_expiry=30, network_backend=_GuardedBackend())
    return pool
