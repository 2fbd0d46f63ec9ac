"""The signed, short-lived call token a Twilio socket carries as a <Parameter> (Media Streams take no query
string): it binds the socket to the call, its client and its conversation decided when the call was
answered. Checked with the handshake's X-Twilio-Signature, never instead of it."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "vocalia.telephony.call"


@dataclass(frozen=True)
class CallToken:
    client_id: int
    call_sid: str
    conversation_id: int


def call_token_make(*, client_id: int, call_sid: str, conversation_id: int) -> str:
    return signing.dumps({"c": client_id, "s": call_sid, "v": conversation_id}, salt=SALT, compress=True)


def call_token_read(token: str) -> CallToken | None:
    """The token's call, or None (forged, malformed, expired: TELEPHONY_CALL_TOKEN_TTL_S)."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.TELEPHONY_CALL_TOKEN_TTL_S)
        return CallToken(client_id=int(data["c"]), call_sid=str(data["s"]), conversation_id=int(data["v"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
