"""Twilio: Programmable Voice through the twilio library (REST), webhooks checked with its RequestValidator.

The account is the agency's (settings: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN), a subaccount of it
(`account_sid` names the subaccount, the agency's token signs), or the client's own (Integrations page).
A recording's audio needs the account's credentials: `recording_fetch` downloads it for our server to play;
its URL is never given to a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx
from django.utils.translation import gettext_lazy as _
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client as RestClient

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.telephony.base import (
    CAPABILITIES,
    AvailableNumber,
    CallResult,
    NumberUrls,
    OwnedNumber,
    Subaccount,
)

T = TypeVar("T")
API = "https://api.twilio.com/2010-04-01"
ALREADY_ENDED = 20404  # "resource not found": the call is over already (as pipecat treats it)


class HttpxClient(HttpClient):
    """The twilio library's HTTP seam, on httpx like every other provider (one timeout, one way to mock)."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout_s)

    def request(self, method: str, url: str, params: Any = None, data: Any = None, headers: Any = None,
                auth: Any = None, timeout: float | None = None, allow_redirects: bool = False) -> Response:
        try:
            answer = httpx.request(method.upper(), url, params=params, data=data, headers=headers, auth=auth,
                                   timeout=timeout or self.timeout, follow_redirects=allow_redirects)
        except httpx.HTTPError as error:
            raise ProviderError(f"Twilio: {error.__class__.__name__}") from None
        return Response(answer.status_code, answer.text, answer.headers)


def _rest(call: Callable[[], T]) -> T:
    try:
        return call()
    except TwilioRestException as error:
        permanent = 400 <= int(error.status or 500) < 500 and error.status != 429
        raise ProviderError(f"Twilio {error.status} ({error.code}): {error.msg}", permanent=permanent) from None
    except TwilioException as error:
        raise ProviderError(f"Twilio: {error}") from None


def _capabilities(raw: Any) -> dict[str, bool]:
    """Twilio spells them `voice`/`sms`/`mms` on owned numbers and `voice`/`SMS`/`MMS` on numbers for sale."""
    lowered = {str(key).lower(): bool(value) for key, value in (raw or {}).items()}
    return {key: lowered.get(key, False) for key in CAPABILITIES}


def _owned(row: Any) -> OwnedNumber:
    return OwnedNumber(sid=row.sid, e164=row.phone_number, friendly_name=row.friendly_name or "",
                       capabilities=_capabilities(getattr(row, "capabilities", None)),
                       voice_url=getattr(row, "voice_url", "") or "")


@dataclass
class TwilioTelephony(ProviderBase):
    account_sid: str
    auth_token: str
    subaccount_sid: str = ""  # numbers and calls live in this subaccount (the parent's credentials reach it)
    subaccount_token: str = ""  # the subaccount's own token: what Twilio signs its numbers' webhooks with
    timeout_s: float = 10.0

    name: ClassVar = "twilio"
    label: ClassVar = "Twilio"
    fields: ClassVar = (Field("account_sid", _("Account SID"), lookup=True, placeholder="AC…"),
                        Field("auth_token", _("Auth token"), secret=True),
                        Field("subaccount_sid", _("Subaccount SID"), required=False, placeholder="AC…"))

    def _client(self) -> RestClient:
        return RestClient(self.account_sid, self.auth_token, account_sid=self.subaccount_sid or None,
                          http_client=HttpxClient(self.timeout_s))

    @property
    def owner_sid(self) -> str:
        return self.subaccount_sid or self.account_sid

    def call_place(self, *, to: str, from_number: str, answer_url: str, status_callback: str = "",
                   machine_detection: bool = False) -> CallResult:
        options: dict[str, Any] = {}
        if status_callback:
            options.update(status_callback=status_callback, status_callback_method="POST",
                           status_callback_event=["initiated", "ringing", "answered", "completed"])
        if machine_detection:
            options["machine_detection"] = "DetectMessageEnd"
        call = _rest(lambda: self._client().calls.create(to=to, from_=from_number, url=answer_url, method="POST",
                                                         **options))
        return CallResult(provider_call_id=call.sid, status=call.status or "queued")

    def call_hangup(self, *, provider_call_id: str) -> None:
        try:
            _rest(lambda: self._client().calls(provider_call_id).update(status="completed"))
        except ProviderError as error:
            if str(ALREADY_ENDED) not in error.message:
                raise

    def call_redirect(self, *, provider_call_id: str, twiml: str) -> None:
        _rest(lambda: self._client().calls(provider_call_id).update(twiml=twiml))

    def signature_valid(self, *, url: str, params: Mapping[str, str], signature: str) -> bool:
        """A subaccount's numbers are signed with the subaccount's own token; the parent's is accepted too (both
        are secrets only Twilio and we hold)."""
        tokens = [token for token in (self.subaccount_token, self.auth_token) if token]
        return bool(signature) and any(RequestValidator(token).validate(url, params, signature) for token in tokens)

    def numbers_search(self, *, country: str, contains: str = "", capabilities: tuple[str, ...] = ("voice",),
                       limit: int = 10) -> list[AvailableNumber]:
        options: dict[str, Any] = {"limit": limit}
        for capability in capabilities:
            options[f"{capability}_enabled"] = True
        if contains:
            options["contains"] = contains
        rows = _rest(lambda: self._client().available_phone_numbers(country.upper()).local.list(**options))
        return [AvailableNumber(e164=row.phone_number, friendly_name=row.friendly_name or "",
                                locality=row.locality or "", country=row.iso_country or country.upper(),
                                capabilities=_capabilities(row.capabilities))
                for row in rows]

    def subaccount_create(self, *, friendly_name: str) -> Subaccount:
        parent = RestClient(self.account_sid, self.auth_token, http_client=HttpxClient(self.timeout_s))
        row = _rest(lambda: parent.api.accounts.create(friendly_name=friendly_name))
        if not row.sid or not row.auth_token:
            raise ProviderError("Twilio created a subaccount without a SID or a token")
        return Subaccount(sid=row.sid, auth_token=row.auth_token, friendly_name=row.friendly_name or friendly_name)

    def number_buy(self, *, e164: str, urls: NumberUrls) -> OwnedNumber:
        row = _rest(lambda: self._client().incoming_phone_numbers.create(
            phone_number=e164, voice_url=urls.voice_url, voice_method="POST",
            status_callback=urls.status_callback, status_callback_method="POST",
            **({"sms_url": urls.sms_url, "sms_method": "POST"} if urls.sms_url else {})))
        return _owned(row)

    def numbers_owned(self) -> list[OwnedNumber]:
        return [_owned(row) for row in _rest(lambda: self._client().incoming_phone_numbers.list(limit=500))]

    def number_configure(self, *, sid: str, urls: NumberUrls) -> OwnedNumber:
        row = _rest(lambda: self._client().incoming_phone_numbers(sid).update(
            voice_url=urls.voice_url, voice_method="POST", status_callback=urls.status_callback,
            status_callback_method="POST",
            **({"sms_url": urls.sms_url, "sms_method": "POST"} if urls.sms_url else {})))
        return _owned(row)

    def recording_fetch(self, *, recording_sid: str) -> bytes:
        if not recording_sid.isalnum():
            raise ProviderError("malformed recording id", permanent=True)
        url = f"{API}/Accounts/{self.owner_sid}/Recordings/{recording_sid}.wav"
        try:
            answer = httpx.get(url, auth=(self.account_sid, self.auth_token), timeout=self.timeout_s,
                               follow_redirects=True)
        except httpx.HTTPError as error:
            raise ProviderError(f"Twilio recording: {error.__class__.__name__}") from None
        if answer.status_code != 200:
            raise ProviderError(f"Twilio recording: HTTP {answer.status_code}",
                                permanent=400 <= answer.status_code < 500)
        return answer.content
