"""Kind → provider name → class. Adding a provider: one module in its kind's folder, its test, one line here.

Classes are named by dotted path and imported on first use, so a registry line never drags a provider's
dependencies (pocketsphinx, smtplib…) into a process that does not use it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils.module_loading import import_string

from apps.integrations.base import KINDS

PROVIDERS: dict[str, dict[str, str]] = {
    "llm": {
        "builtin": "apps.agents.builtin.brain.BuiltinProvider",
        "openai_compatible": "apps.integrations.llm.openai_compatible.OpenAICompatibleProvider",
        "anthropic": "apps.integrations.llm.anthropic.AnthropicProvider",
    },
    "stt": {
        "builtin": "apps.integrations.stt.pocketsphinx.PocketSphinxRecognizer",
        "deepgram": "apps.integrations.stt.deepgram.DeepgramRecognizer",
        "openai": "apps.integrations.stt.openai.OpenAIRecognizer",
    },
    "tts": {
        "builtin": "apps.integrations.tts.espeak.EspeakSpeaker",
        "openai": "apps.integrations.tts.openai.OpenAISpeaker",
        "elevenlabs": "apps.integrations.tts.elevenlabs.ElevenLabsSpeaker",
    },
    "sms": {
        "outbox": "apps.integrations.sms.outbox.OutboxSms",
        "twilio": "apps.integrations.sms.twilio.TwilioSms",
    },
    "whatsapp": {
        "outbox": "apps.integrations.whatsapp.outbox.OutboxWhatsApp",
        "twilio": "apps.integrations.whatsapp.twilio.TwilioWhatsApp",
    },
    "email": {
        "outbox": "apps.integrations.email.outbox.OutboxEmail",
        "agency": "apps.integrations.email.agency.AgencyMailSender",
        "smtp": "apps.integrations.email.smtp.SmtpSender",
    },
    "telephony": {
        "memory": "apps.integrations.telephony.memory.MemoryTelephony",
        "twilio": "apps.integrations.telephony.twilio.TwilioTelephony",
    },
    "billing": {
        "memory": "apps.integrations.billing.memory.MemoryBilling",
        "stripe": "apps.integrations.billing.stripe.StripeBilling",
    },
}

# Each kind's offline twin: what answers when nothing else may or can.
TWINS = {"llm": "builtin", "stt": "builtin", "tts": "builtin", "sms": "outbox", "whatsapp": "outbox",
         "email": "outbox", "telephony": "memory", "billing": "memory"}

# Each kind's interface (a Protocol), for the contract tests and the docs.
INTERFACES = {
    "llm": "apps.integrations.llm.base.LLMProvider",
    "stt": "apps.integrations.stt.base.SpeechToText",
    "tts": "apps.integrations.tts.base.TextToSpeech",
    "sms": "apps.integrations.sms.base.SmsSender",
    "whatsapp": "apps.integrations.whatsapp.base.WhatsAppSender",
    "email": "apps.integrations.email.base.EmailSender",
    "telephony": "apps.integrations.telephony.base.Telephony",
    "billing": "apps.integrations.billing.base.Billing",
}

# The plan feature a client needs for anything but the twin (None: every plan).
FEATURES: dict[str, str | None] = {"llm": None, "stt": None, "tts": "cloud_voice", "sms": "sms",
                                   "whatsapp": "whatsapp", "email": "email_notifications",
                                   "telephony": "voice_telephony", "billing": None}

assert set(PROVIDERS) == set(KINDS) == set(TWINS) == set(INTERFACES) == set(FEATURES)


@cache
def provider_class(kind: str, name: str) -> Any:
    """The class registered as `name` for `kind`; KeyError when there is none."""
    return import_string(PROVIDERS[kind][name])


def provider_names(kind: str) -> list[str]:
    return list(PROVIDERS[kind])


def interface(kind: str) -> Any:
    return import_string(INTERFACES[kind])
