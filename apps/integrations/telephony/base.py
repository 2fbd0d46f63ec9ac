"""Telephony: place and end calls, and tell a genuine webhook from a forged one.

The real provider (Twilio, with its Voice API and `X-Twilio-Signature`) comes with the telephony issue; the
twin `memory.MemoryTelephony` records calls in memory and signs webhooks the way Twilio does, so the webhook
views can be written and tested against it first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CallResult:
    provider_call_id: str
    status: str = "queued"  # queued | ringing | in-progress | completed | failed


class Telephony(Protocol):
    name: str

    def call_place(self, *, to: str, from_number: str, answer_url: str) -> CallResult: ...

    def call_hangup(self, *, provider_call_id: str) -> None: ...

    def signature_valid(self, *, url: str, params: Mapping[str, str], signature: str) -> bool: ...


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """Base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name))."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
