"""Which recogniser and which voice serve a client: chosen by the agency in the environment.

VOICE_STT = builtin | deepgram | openai, VOICE_TTS = builtin | openai | elevenlabs. Cloud voices are a plan
feature (`cloud_voice`); without it, or without a key, the offline twins answer. Adding a provider: a class
in stt.py or tts.py, its respx test, one branch here, its variables in docs/operations.md.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from apps.agents.models import LANGUAGE_CODES
from apps.clients.entitlements import client_may
from apps.voice.stt import DeepgramRecognizer, OpenAIRecognizer, PocketSphinxRecognizer, SpeechToText
from apps.voice.tts import ElevenLabsSpeaker, EspeakSpeaker, OpenAISpeaker, TextToSpeech


@lru_cache(maxsize=1)
def builtin_recognizer() -> PocketSphinxRecognizer:
    return PocketSphinxRecognizer()


def recognizer_for(language: str) -> SpeechToText | None:
    """The recogniser for `language`, or None when none here understands it (the widget then listens itself)."""
    name, voice = settings.VOICE_STT, settings.VOICE
    cloud: SpeechToText | None = None
    if name == "deepgram" and voice["deepgram_api_key"]:
        cloud = DeepgramRecognizer(api_key=voice["deepgram_api_key"], model=voice["deepgram_model"])
    elif name == "openai" and voice["openai_api_key"]:
        cloud = OpenAIRecognizer(api_key=voice["openai_api_key"], model=voice["openai_stt_model"],
                                 base_url=voice["openai_base_url"])
    for candidate in (cloud, builtin_recognizer()):
        if candidate is not None and candidate.supports(language):
            return candidate
    return None


def recognised_languages() -> list[str]:
    return [code for code in LANGUAGE_CODES if recognizer_for(code) is not None]


def speaker_for(client: object) -> TextToSpeech:
    name, voice = settings.VOICE_TTS, settings.VOICE
    if client_may(client, "cloud_voice"):  # type: ignore[arg-type]
        if name == "openai" and voice["openai_api_key"]:
            return OpenAISpeaker(api_key=voice["openai_api_key"], model=voice["openai_tts_model"],
                                 voice=voice["openai_tts_voice"], base_url=voice["openai_base_url"])
        if name == "elevenlabs" and voice["elevenlabs_api_key"]:
            return ElevenLabsSpeaker(api_key=voice["elevenlabs_api_key"], voice=voice["elevenlabs_voice_id"])
    return builtin_speaker()


def builtin_speaker() -> TextToSpeech:
    return EspeakSpeaker()
