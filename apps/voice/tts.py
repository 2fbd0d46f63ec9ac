"""Text to speech: a sentence in, PCM16 mono out (with its sample rate).

    speech = await speaker.synthesize("Bonjour !", language="fr")

`EspeakSpeaker` is the offline twin (espeak-ng, Debian package: fr, en, es, ar; Darija with the Arabic
voice); `OpenAISpeaker` and `ElevenLabsSpeaker` are the cloud voices, both asked for raw PCM so nothing
has to be decoded here.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from typing import Any, Protocol

from apps.agents.llm.wire import post_checked
from apps.core.errors import ProviderError
from apps.voice.audio import wav_read

MAX_TEXT = 1_000  # characters per synthesis call: the channel splits replies into sentences first


@dataclass(frozen=True)
class Speech:
    pcm: bytes
    rate: int
    provider: str


class TextToSpeech(Protocol):
    name: str

    async def synthesize(self, text: str, *, language: str) -> Speech: ...


ESPEAK_VOICES = {"fr": "fr", "en": "en-us", "es": "es", "ar": "ar", "ary": "ar"}


@dataclass
class EspeakSpeaker:
    words_per_minute: int = 165
    name: str = "builtin"

    async def synthesize(self, text: str, *, language: str) -> Speech:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ProviderError("espeak-ng is not installed (apt-get install espeak-ng)", permanent=True)
        # The text goes in on stdin, never as an argument.
        process = await asyncio.create_subprocess_exec(
            binary, "-v", ESPEAK_VOICES.get(language, "en-us"), "-s", str(self.words_per_minute), "--stdout",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate(text[:MAX_TEXT].encode())
        if process.returncode != 0 or not out:
            raise ProviderError(f"espeak-ng failed: {err.decode(errors='replace')[:200]}")
        pcm, rate = wav_read(out)
        return Speech(pcm=pcm, rate=rate, provider=self.name)


async def _post_audio(url: str, *, api_key: str, timeout_s: float, **kwargs: Any) -> bytes:
    response = await post_checked(url, api_key=api_key, timeout_s=timeout_s, **kwargs)
    if not response.content:
        raise ProviderError("the voice service sent no audio")
    return response.content


@dataclass
class OpenAISpeaker:
    """POST /v1/audio/speech {model, input, voice, response_format: "pcm"} → raw 24 kHz PCM16 mono."""

    api_key: str
    model: str = "gpt-4o-mini-tts"
    voice: str = "alloy"
    base_url: str = "https://api.openai.com/v1"
    timeout_s: float = 10.0
    name: str = "openai"
    rate: int = 24_000

    async def synthesize(self, text: str, *, language: str) -> Speech:
        pcm = await _post_audio(f"{self.base_url}/audio/speech", api_key=self.api_key, timeout_s=self.timeout_s,
                                headers={"Authorization": f"Bearer {self.api_key}"},
                                json={"model": self.model, "input": text[:MAX_TEXT], "voice": self.voice,
                                      "response_format": "pcm"})
        return Speech(pcm=pcm, rate=self.rate, provider=self.name)


@dataclass
class ElevenLabsSpeaker:
    """POST /v1/text-to-speech/{voice_id}?output_format=pcm_16000 {text, model_id, language_code} → raw PCM16."""

    api_key: str
    voice: str = "21m00Tcm4TlvDq8ikWAM"
    model: str = "eleven_flash_v2_5"
    base_url: str = "https://api.elevenlabs.io/v1"
    timeout_s: float = 10.0
    name: str = "elevenlabs"
    rate: int = 16_000

    async def synthesize(self, text: str, *, language: str) -> Speech:
        pcm = await _post_audio(f"{self.base_url}/text-to-speech/{self.voice}", api_key=self.api_key,
                                timeout_s=self.timeout_s, params={"output_format": f"pcm_{self.rate}"},
                                headers={"xi-api-key": self.api_key},
                                json={"text": text[:MAX_TEXT], "model_id": self.model,
                                      "language_code": "ar" if language == "ary" else language})
        return Speech(pcm=pcm, rate=self.rate, provider=self.name)
