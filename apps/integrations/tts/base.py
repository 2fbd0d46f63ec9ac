"""Text to speech: a sentence in, PCM16 mono out (with its sample rate).

    speech = await speaker.synthesize("Bonjour !", language="fr")

`espeak.EspeakSpeaker` is the offline twin (espeak-ng, Debian package: fr, en, es, ar; Darija with the Arabic
voice); `openai.OpenAISpeaker` and `elevenlabs.ElevenLabsSpeaker` are the cloud voices, both asked for raw PCM
so nothing has to be decoded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from apps.core.errors import ProviderError
from apps.integrations.wire import post_checked

MAX_TEXT = 1_000  # characters per synthesis call: the channel splits replies into sentences first


@dataclass(frozen=True)
class Speech:
    pcm: bytes
    rate: int
    provider: str


class TextToSpeech(Protocol):
    name: str

    async def synthesize(self, text: str, *, language: str) -> Speech: ...


async def post_audio(url: str, *, api_key: str, timeout_s: float, **kwargs: Any) -> bytes:
    response = await post_checked(url, api_key=api_key, timeout_s=timeout_s, **kwargs)
    if not response.content:
        raise ProviderError("the voice service sent no audio")
    return response.content
