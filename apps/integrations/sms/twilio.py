"""SMS through the client's Twilio number (Messages API)."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.integrations.twilio_messaging import TwilioMessages


class TwilioSms(TwilioMessages):
    name: ClassVar = "twilio"
    label: ClassVar = _("Twilio (your number)")
