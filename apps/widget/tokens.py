"""The conversation token: signed, expiring, sent in the X-Vocalia-Token header (never in a URL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

SALT = "vocalia.widget.conversation"
TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class ConversationToken:
    client_id: int
    conversation_id: int
    visitor: str


def token_issue(*, client_id: int, conversation_id: int, visitor: str) -> str:
    return signing.dumps({"c": client_id, "v": conversation_id, "u": visitor}, salt=SALT, compress=True)


def token_read(token: str, *, max_age: timedelta | None = None) -> ConversationToken | None:
    """The token's content, or None when it is forged, malformed or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=(max_age or TOKEN_TTL).total_seconds())
        return ConversationToken(client_id=int(data["c"]), conversation_id=int(data["v"]), visitor=str(data["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
