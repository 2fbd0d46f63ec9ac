"""Languages on the phone, per mode, as data (docs/telephony.md): edit a row, not the code.

ConversationRelay: Twilio recognises and speaks; each of our languages maps to a BCP-47 code, a speech
provider and voice, and a recogniser. Darija (ary): Google recognises ar-MA; **no Darija voice exists**
anywhere we looked, so the documented fallback speaks Modern Standard Arabic (Google's ar-XA voice) — the
agent's words are Darija in Arabic script, read by an MSA voice. Whether ConversationRelay accepts ar-MA is
not confirmed by Twilio's docs: if a call's setup fails, change `ary`'s row to ar-SA recognition.

<Say> (polite messages, gather mode): Amazon Polly voices; Polly has no Moroccan voice (Zeina, MSA).
<Gather input="speech">: Twilio's recogniser takes ar-MA for Darija.
Media Streams: our own speech providers (apps/voice): what the client's recogniser and voice support.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelayLanguage:
    code: str  # the BCP-47 code Twilio is told (and sends back in prompt.lang)
    tts_provider: str
    voice: str
    transcription_provider: str
    speech_model: str = "telephony"
    fallback_voice: bool = False  # no voice of this language: another one reads it


RELAY: dict[str, RelayLanguage] = {
    "fr": RelayLanguage("fr-FR", "Google", "fr-FR-Neural2-A", "Google"),
    "en": RelayLanguage("en-US", "Google", "en-US-Neural2-F", "Google"),
    "es": RelayLanguage("es-ES", "Google", "es-ES-Neural2-A", "Google"),
    "ar": RelayLanguage("ar-SA", "Google", "ar-XA-Wavenet-A", "Google"),
    "ary": RelayLanguage("ar-MA", "Google", "ar-XA-Wavenet-B", "Google", fallback_voice=True),
}

# <Say voice=… language=…>: Amazon Polly through Twilio.
SAY: dict[str, tuple[str, str]] = {
    "fr": ("Polly.Lea", "fr-FR"),
    "en": ("Polly.Joanna", "en-US"),
    "es": ("Polly.Lucia", "es-ES"),
    "ar": ("Polly.Zeina", "arb"),
    "ary": ("Polly.Zeina", "arb"),  # fallback: MSA voice
}

# <Gather input="speech" language=…>
GATHER: dict[str, str] = {"fr": "fr-FR", "en": "en-US", "es": "es-ES", "ar": "ar-SA", "ary": "ar-MA"}


def relay_language(language: str) -> RelayLanguage:
    return RELAY.get(language) or RELAY["en"]


def language_from_bcp47(code: str, *, current: str = "") -> str:
    """prompt.lang ('fr-FR', 'ar-MA', 'es') → our code; ar-MA → ary; unknown → `current`."""
    code = (code or "").strip()
    for ours, row in RELAY.items():
        if code.lower() == row.code.lower():
            return ours
    base = code.split("-")[0].lower()
    if base == "ar":
        return "ary" if code.upper().endswith("MA") else "ar"
    return base if base in RELAY else current


def say(language: str) -> tuple[str, str]:
    return SAY.get(language) or SAY["en"]
