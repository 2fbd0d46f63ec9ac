"""The offline twin: calls are recorded in memory, nothing rings."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.telephony.base import CallResult, twilio_signature


@dataclass
class MemoryTelephony(ProviderBase):
    phone_number: str = "+10000000000"
    auth_token: str = "offline-twin"

    name: ClassVar = "memory"
    label: ClassVar = _("Built-in (offline: calls are recorded, nothing rings)")
    offline: ClassVar = True
    fields: ClassVar = (Field("phone_number", _("Phone number"), required=False, lookup=True),
                        Field("auth_token", _("Signing token"), secret=True, required=False))
    calls: ClassVar[dict[str, dict[str, str]]] = {}

    def call_place(self, *, to: str, from_number: str, answer_url: str) -> CallResult:
        if not to.strip():
            raise ProviderError("no number to call", permanent=True)
        call_id = f"CA{uuid.uuid4().hex}"
        type(self).calls[call_id] = {"to": to, "from": from_number or self.phone_number, "url": answer_url,
                                     "status": "queued"}
        return CallResult(provider_call_id=call_id)

    def call_hangup(self, *, provider_call_id: str) -> None:
        call = type(self).calls.get(provider_call_id)
        if call is None:
            raise ProviderError(f"unknown call {provider_call_id}", permanent=True)
        call["status"] = "completed"

    def signature_valid(self, *, url: str, params: Mapping[str, str], signature: str) -> bool:
        return hmac.compare_digest(twilio_signature(self.auth_token, url, params), signature or "")
