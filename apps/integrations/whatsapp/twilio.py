"""WhatsApp through the client's Twilio sender (`whatsapp:+E.164`). Outside the 24-hour window only approved templates
(ContentSid + ContentVariables) go out: apps.messaging decides which before queueing."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.integrations.twilio_messaging import TwilioMessages


class TwilioWhatsApp(TwilioMessages):
    name: ClassVar = "twilio"
    label: ClassVar = _("Twilio (WhatsApp sender)")
    prefix: ClassVar = "whatsapp:"
