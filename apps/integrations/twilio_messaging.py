"""What Twilio's SMS and WhatsApp providers share: the Messages API through the twilio library, its errors mapped to
ProviderError (the auth token never in a message), the status callback URL every message carries.

    POST https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json
         To, From (or MessagingServiceSid), Body | ContentSid + ContentVariables, StatusCallback
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.outbound import OutboundMessage, SendResult

STATUS_CALLBACK_PATH = "/telephony/twilio/messages/status/"
# Error codes that refuse the address itself (recorded as a bounce on the person's contact).
ADDRESS_REFUSED = {21211, 21610, 21614, 63003}
PERMANENT = {20003, 20404, 21408, 21606, 21608, 21612, 63016, 63018}  # auth, unknown, not allowed, outside window


def status_callback_url() -> str:
    return settings.PUBLIC_URL.rstrip("/") + STATUS_CALLBACK_PATH


@dataclass
class TwilioMessages(ProviderBase):
    account_sid: str
    auth_token: str
    from_number: str  # the client's Twilio number (+E.164) or a Messaging Service SID (MG…)
    timeout_s: float = 10.0

    prefix: ClassVar[str] = ""  # "whatsapp:" for WhatsApp
    fields: ClassVar = (
        Field("account_sid", _("Account SID"), placeholder="AC…"),
        Field("auth_token", _("Auth token"), secret=True),
        Field("from_number", _("Your Twilio number (or Messaging Service SID)"), lookup=True,
              placeholder="+33612345678"),
    )

    def _client(self):  # type: ignore[no-untyped-def]
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        return Client(self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=self.timeout_s))

    def _address(self, number: str) -> str:
        number = number.strip()
        if self.prefix and not number.startswith(self.prefix):
            return self.prefix + number
        return number

    def send(self, message: OutboundMessage) -> SendResult:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        params: dict[str, object] = {"to": self._address(message.to), "status_callback": status_callback_url()}
        if self.from_number.startswith("MG"):
            params["messaging_service_sid"] = self.from_number
        else:
            params["from_"] = self._address(self.from_number)
        if message.content_sid:
            params["content_sid"] = message.content_sid
            params["content_variables"] = json.dumps(message.content_variables or {}, ensure_ascii=False)
        else:
            params["body"] = message.body
        try:
            sent = self._client().messages.create(**params)
        except TwilioRestException as error:
            code = int(error.code or 0)
            text = f"Twilio {error.status} (error {code}): {error.msg}".replace(self.auth_token, "[redacted]")
            permanent = code in PERMANENT or (400 <= error.status < 500 and error.status != 429)
            raise ProviderError(text[:300], permanent=permanent, address_refused=code in ADDRESS_REFUSED) from None
        except (requests.RequestException, TwilioException, OSError) as error:
            raise ProviderError(f"Twilio unreachable: {type(error).__name__}", permanent=False) from None
        return SendResult(provider_message_id=str(sent.sid))
