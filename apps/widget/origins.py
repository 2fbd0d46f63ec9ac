"""Origins: normalised `scheme://host[:port]`, matched exactly or by a `*.example.com` wildcard."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_HOST = re.compile(r"^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$")


class InvalidOrigin(ValueError):
    pass


def normalise_origin(value: str) -> str:
    """'HTTPS://Shop.Example:443/' → 'https://shop.example'. Raises InvalidOrigin."""
    text = (value or "").strip()
    if _CONTROL.search(text):  # urlsplit would quietly drop a tab or a newline: "https://sh\nop.example"
        raise InvalidOrigin("invalid characters")
    if "://" not in text:
        raise InvalidOrigin("an origin starts with http:// or https://")
    try:
        parts = urlsplit(text)
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket
        raise InvalidOrigin("invalid host") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidOrigin("only http and https")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidOrigin("an origin has no path, query or credentials")
    raw_host = parts.netloc.rsplit(":", 1)[0].lower() if parts.netloc.count(":") == 1 else parts.netloc.lower()
    if not raw_host or not _HOST.match(raw_host) or len(raw_host) > 253:
        raise InvalidOrigin("invalid host")
    try:
        port = parts.port
    except ValueError:
        raise InvalidOrigin("invalid port") from None
    if port and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{raw_host}:{port}"
    return f"{scheme}://{raw_host}"


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """Exact scheme, host and port; `https://*.example.com` also admits any subdomain (not the apex)."""
    try:
        candidate = normalise_origin(origin)
    except InvalidOrigin:
        return False
    if "*" in candidate:
        return False
    scheme, rest = candidate.split("://", 1)
    for entry in allowed:
        if entry == candidate:
            return True
        if "://*." in entry:
            entry_scheme, pattern = entry.split("://*.", 1)
            if entry_scheme == scheme and rest.endswith("." + pattern) and rest.count(".") > pattern.count("."):
                return True
    return False
