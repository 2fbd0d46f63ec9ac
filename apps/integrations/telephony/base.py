"""Telephony: numbers (search, buy, import, point at us), calls (place, redirect, end), recordings, and telling
a genuine webhook from a forged one.

Providers: `twilio.TwilioTelephony` (Twilio's REST API through the twilio library, `X-Twilio-Signature`
checked with its RequestValidator) and the twin `memory.MemoryTelephony` (numbers and calls kept in memory,
webhooks signed the way Twilio signs them). Neither touches the ORM: apps.telephony.services stores what
they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from twilio.request_validator import RequestValidator


@dataclass(frozen=True)
class CallResult:
    provider_call_id: str
    status: str = "queued"  # queued | ringing | in-progress | completed | failed


@dataclass(frozen=True)
class NumberUrls:
    """Where the provider sends a number's events (absolute public URLs)."""

    voice_url: str
    status_callback: str
    sms_url: str = ""


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    friendly_name: str = ""
    locality: str = ""
    country: str = ""
    capabilities: dict[str, bool] = field(default_factory=dict)  # voice / sms / mms


@dataclass(frozen=True)
class OwnedNumber:
    sid: str
    e164: str
    friendly_name: str = ""
    capabilities: dict[str, bool] = field(default_factory=dict)
    voice_url: str = ""


@dataclass(frozen=True)
class Subaccount:
    """A subaccount just created under the provider's (parent) account."""

    sid: str
    auth_token: str = field(repr=False)
    friendly_name: str = ""


CAPABILITIES = ("voice", "sms", "mms")


class Telephony(Protocol):
    name: str

    def call_place(self, *, to: str, from_number: str, answer_url: str, status_callback: str = "",
                   machine_detection: bool = False) -> CallResult:
        """Ring `to` from `from_number`; `answer_url` gets the answer request, `status_callback` the call's status
        changes; with `machine_detection` the answer request says who answered (`AnsweredBy`, Twilio's
        DetectMessageEnd: a machine is told after its greeting, so a message can be left)."""
        ...

    def call_hangup(self, *, provider_call_id: str) -> None: ...

    def call_redirect(self, *, provider_call_id: str, twiml: str) -> None: ...

    def signature_valid(self, *, url: str, params: Mapping[str, str], signature: str) -> bool: ...

    def numbers_search(self, *, country: str, contains: str = "", capabilities: tuple[str, ...] = ("voice",),
                       limit: int = 10) -> list[AvailableNumber]:
        """Local numbers for sale in `country` (ISO 3166 alpha-2) whose digits contain `contains` and that have
        every one of `capabilities` (CAPABILITIES)."""
        ...

    def number_buy(self, *, e164: str, urls: NumberUrls) -> OwnedNumber: ...

    def numbers_owned(self) -> list[OwnedNumber]: ...

    def number_configure(self, *, sid: str, urls: NumberUrls) -> OwnedNumber: ...

    def recording_fetch(self, *, recording_sid: str) -> bytes: ...

    def subaccount_create(self, *, friendly_name: str) -> Subaccount:
        """A new subaccount of this (parent) account, for one client's numbers and calls."""
        ...


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """Base64(HMAC-SHA1(auth token, full URL + each POST parameter's name and value, sorted by name)),
    computed by the twilio library (what Twilio sends as X-Twilio-Signature)."""
    return RequestValidator(token).compute_signature(url, params)
