"""The offline twin: numbers handed out from a test range, calls recorded in memory. A call it places rings the
dashboard's "Call your agent" page of the number that calls, when that page is open (a message on the channel
group `ring_group(from_number)`); nothing else rings.

It signs and checks webhooks exactly the way Twilio does (twilio's RequestValidator with its signing token),
so the webhook views, the caller simulator and the tests run the real signature path.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from twilio.request_validator import RequestValidator

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.telephony.base import AvailableNumber, CallResult, NumberUrls, OwnedNumber, Subaccount

# A range no real subscriber has: +1 555 01xx is reserved for fiction in North America.
TEST_PREFIX = "+1555010"
# A short silent WAV: what the twin answers for a recording's audio.
logger = logging.getLogger(__name__)
SILENT_WAV = (b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00"
              b"\x10\x00data\x00\x00\x00\x00")


def ring_group(e164: str) -> str:
    """The channel group of the simulator pages open on this number (digits only: a valid group name)."""
    return "simulator.ring." + "".join(ch for ch in e164 if ch.isdigit())[:20]


def _ring(message: dict[str, str]) -> None:
    """Tell the open simulator pages of the calling number that a call is coming (best effort: a call is never
    refused because no page listens or the channel layer is down)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(ring_group(message["from"]), {"type": "simulator.ring", **message})
    except Exception:  # noqa: BLE001 - ringing is a courtesy of the twin
        logger.warning("the twin could not ring the simulator for %s", message.get("call_id"), exc_info=True)


@dataclass
class MemoryTelephony(ProviderBase):
    phone_number: str = "+15550100000"
    auth_token: str = "offline-twin"

    name: ClassVar = "memory"
    label: ClassVar = _("Built-in (offline: calls are recorded; they ring only the simulator page)")
    offline: ClassVar = True
    fields: ClassVar = (Field("phone_number", _("Phone number"), required=False, lookup=True),
                        Field("auth_token", _("Signing token"), secret=True, required=False))
    calls: ClassVar[dict[str, dict[str, str]]] = {}
    numbers: ClassVar[dict[str, OwnedNumber]] = {}
    _serial: ClassVar = itertools.count(1)

    def call_place(self, *, to: str, from_number: str, answer_url: str, status_callback: str = "",
                   machine_detection: bool = False) -> CallResult:
        if not to.strip():
            raise ProviderError("no number to call", permanent=True)
        call_id = f"CA{uuid.uuid4().hex}"
        type(self).calls[call_id] = {"to": to, "from": from_number or self.phone_number, "url": answer_url,
                                     "status_callback": status_callback, "machine_detection": str(machine_detection),
                                     "status": "queued"}
        message = {"call_id": call_id, "to": to, "from": from_number or self.phone_number, "answer_url": answer_url,
                   "status_callback": status_callback}
        if transaction.get_connection().in_atomic_block:  # once the call's row says it is placed
            transaction.on_commit(lambda: _ring(message))
        else:  # no transaction open (a provider is called without the database): ring now
            _ring(message)
        return CallResult(provider_call_id=call_id)

    def call_hangup(self, *, provider_call_id: str) -> None:
        call = type(self).calls.setdefault(provider_call_id, {})
        call["status"] = "completed"

    def call_redirect(self, *, provider_call_id: str, twiml: str) -> None:
        call = type(self).calls.setdefault(provider_call_id, {})
        call["twiml"] = twiml

    def signature_valid(self, *, url: str, params: Mapping[str, str], signature: str) -> bool:
        return bool(signature) and RequestValidator(self.auth_token).validate(url, params, signature)

    def numbers_search(self, *, country: str, contains: str = "", capabilities: tuple[str, ...] = ("voice",),
                       limit: int = 10) -> list[AvailableNumber]:
        """Test numbers (+1 555 010…, whatever the country: no real subscriber has them) with voice and SMS."""
        if "mms" in capabilities:
            return []
        digits = "".join(ch for ch in contains if ch.isdigit())[:4]
        found = []
        for n in range(100):
            e164 = f"{TEST_PREFIX}{n:02d}{digits}"[:16]
            if e164 not in type(self).numbers:
                found.append(AvailableNumber(e164=e164, friendly_name=e164, country=country.upper() or "US",
                                             capabilities={"voice": True, "sms": True, "mms": False}))
            if len(found) >= limit:
                break
        return found

    def number_buy(self, *, e164: str, urls: NumberUrls) -> OwnedNumber:
        if e164 in type(self).numbers:
            raise ProviderError(f"{e164} is already taken", permanent=True)
        owned = OwnedNumber(sid=f"PN{uuid.uuid4().hex}", e164=e164, friendly_name=e164,
                            capabilities={"voice": True, "sms": True}, voice_url=urls.voice_url)
        type(self).numbers[e164] = owned
        return owned

    def numbers_owned(self) -> list[OwnedNumber]:
        return list(type(self).numbers.values())

    def number_configure(self, *, sid: str, urls: NumberUrls) -> OwnedNumber:
        for e164, owned in type(self).numbers.items():
            if owned.sid == sid:
                updated = OwnedNumber(sid=sid, e164=e164, friendly_name=owned.friendly_name,
                                      capabilities=owned.capabilities, voice_url=urls.voice_url)
                type(self).numbers[e164] = updated
                return updated
        # A twin number handed out without a purchase (the demo's): configured as it is named.
        return OwnedNumber(sid=sid, e164="", voice_url=urls.voice_url)

    def recording_fetch(self, *, recording_sid: str) -> bytes:
        return SILENT_WAV

    def subaccount_create(self, *, friendly_name: str) -> Subaccount:
        return Subaccount(sid=f"AC{uuid.uuid4().hex}", auth_token=uuid.uuid4().hex, friendly_name=friendly_name)
