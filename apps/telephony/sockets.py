"""Twilio's WebSocket handshakes (ConversationRelay, Media Streams), admitted before any consumer runs.

The path names the called number (`/ws/twilio/<relay|media>/<digits>/`): its route gives the client and the
account whose auth token must have signed the handshake — X-Twilio-Signature over the wss:// URL Twilio
opened (rebuilt from settings.PUBLIC_URL; the framework sees ws/http), with no parameters. A forged,
unsigned or unroutable handshake is refused (daphne answers 403) and nothing is read from a client's
schema. The consumer then requires the signed call token in the first message's customParameters.
"""

from __future__ import annotations

import re
from typing import Any

from apps.clients.models import Client
from apps.telephony.selectors import number_route
from apps.telephony.webhooks import public_ws_url, signature_valid, signing_provider

TWILIO_PATHS = ("/ws/twilio/",)
PATH_RE = re.compile(r"^/ws/twilio/(relay|media)/([1-9][0-9]{6,14})/$")
CLOSE_UNKNOWN = 4404
CLOSE_FORBIDDEN = 4401
CLOSE_UNAVAILABLE = 4403


def _header(scope: dict[str, Any], name: bytes) -> str:
    return dict(scope.get("headers") or []).get(name, b"").decode("latin-1")


def twilio_socket_admit(scope: dict[str, Any]) -> tuple[Client | None, int]:
    """(client, 0) for a genuine Twilio handshake to one of our numbers, else (None, close code)."""
    match = PATH_RE.match(scope.get("path", ""))
    if match is None:
        return None, CLOSE_UNKNOWN
    route = number_route("+" + match.group(2))
    query = scope.get("query_string", b"").decode("latin-1")
    url = public_ws_url(scope["path"] + (f"?{query}" if query else ""))
    if not signature_valid(signing_provider(route), url=url, params={},
                           signature=_header(scope, b"x-twilio-signature")):
        return None, CLOSE_FORBIDDEN
    if route is None or route.client is None:
        return None, CLOSE_UNKNOWN
    if route.client.status != Client.Status.ACTIVE:
        return None, CLOSE_UNAVAILABLE
    return route.client, 0
