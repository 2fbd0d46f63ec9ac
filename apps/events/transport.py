"""The one HTTP call to a client's webhook receiver, with the SSRF guard.

Why here and not a provider kind in apps/integrations: a provider is an outside service we talk to on the
client's behalf, chosen per client, with an offline twin standing in for it. A webhook POST is our own feature:
the receiver is the client's URL, there is nothing to choose between, and an "offline twin" would only be a
mock of our own logic. Tests replace the network at this seam (a real local receiver, allowed by the
test-only/operator setting WEBHOOKS_ALLOW_PRIVATE_URLS), exactly as the brief's "replace only the network".

SSRF: the host is resolved once, every address checked (no loopback, private, link-local, metadata, CGNAT,
multicast or reserved address — anything not globally routable), and the connection is made to that checked
address with the Host header and TLS SNI/verification kept on the name, so a DNS answer that changes between
the check and the connect (rebinding) cannot redirect the request. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
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


def resolve_checked(host: str, port: int) -> str:
    """One address `host` resolves to, every one of them checked; AddressRefused otherwise."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise AddressRefused(f"cannot resolve {host}: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise AddressRefused(f"{host} has no address")
    for address in addresses:
        if not address_allowed(address):
            raise AddressRefused(f"{host} resolves to {address}, a private or reserved address")
    return str(addresses[0])


def post(url: str, *, body: bytes, headers: dict[str, str], timeout_s: float | None = None) -> Answer:
    """POST `body` to `url` through the guard; never raises for the receiver's failures (see Answer.error)."""
    timeout_s = timeout_s if timeout_s is not None else settings.WEBHOOK_TIMEOUT_S
    started = time.monotonic()
    problem = url_problem(url)
    if problem:
        return Answer(status=None, error=f"refused URL ({problem})")
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = resolve_checked(host, port)
    except AddressRefused as error:
        return Answer(status=None, error=str(error)[:300])
    netloc_host = f"[{address}]" if ":" in address else address
    target = urlunsplit((parts.scheme, f"{netloc_host}:{port}", parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with _client(timeout_s, pooled=parts.scheme == "http") as client, client.stream(
                "POST", target, content=body, headers={**headers, "host": host_header},
                extensions=extensions) as response:
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES or time.monotonic() - started > timeout_s:
                    break
            return Answer(status=response.status_code, headers={k.lower(): v for k, v in response.headers.items()},
                          excerpt=excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace"),
                          latency_ms=int((time.monotonic() - started) * 1000))
    except httpx.TimeoutException:
        return Answer(status=None, error=f"timed out after {timeout_s:g} s",
                      latency_ms=int((time.monotonic() - started) * 1000))
    except httpx.HTTPError as error:
        return Answer(status=None, error=f"{type(error).__name__}: {error}"[:300],
                      latency_ms=int((time.monotonic() - started) * 1000))


_CLIENTS: dict[float, httpx.Client] = {}


def _client(timeout_s: float, *, pooled: bool) -> httpx.Client:
    """For plain HTTP a shared client per timeout (connection reuse for a busy receiver), used as a context
    manager that does not close it; for HTTPS a fresh one, so a TLS connection checked for one name is never
    reused for another name on the same address."""
    if not pooled:
        return httpx.Client(timeout=httpx.Timeout(timeout_s), follow_redirects=False)
    client = _CLIENTS.get(timeout_s)
    if client is None:
        client = _CLIENTS[timeout_s] = _KeptClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False,
                                                   limits=httpx.Limits(max_connections=20,
                                                                       max_keepalive_connections=10))
    return client


class _KeptClient(httpx.Client):
    def __enter__(self) -> _KeptClient:
        return self

    def __exit__(self, *args: object) -> None:  # type: ignore[override]
        return None
