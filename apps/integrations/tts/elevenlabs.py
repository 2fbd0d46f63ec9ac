"""ElevenLabs: POST /v1/text-to-speech/{voice_id}?output_format=pcm_16000 {text, model_id, language_code} → PCM16."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.integrations.base import Field, ProviderBase
from apps.integrations.tts.base import MAX_TEXT, Speech, post_audio


@dataclass
class ElevenLabsSpeaker(ProviderBase):
    api_key: str
    voice: str = "21m00Tcm4TlvDq8ikWAM"
    model: str = "eleven_flash_v2_5"
    base_url: str = "https://api.elevenlabs.io/v1"
    timeout_s: float = 10.0
    name: str = "elevenlabs"
    rate: int = 16_000

    label: ClassVar = "ElevenLabs"
    fields: ClassVar = (Field("api_key", _("API key"), secret=True),
                        Field("voice", _("Voice"), required=False, placeholder="21m00Tcm4TlvDq8ikWAM"))

    async def synthesize(self, text: str, *, language: str) -> Speech:
        pcm = await post_audio(f"{self.base_url}/text-to-speech/{self.voice}", api_key=self.api_key,
                               timeout_s=self.timeout_s, params={"output_format": f"pcm_{self.rate}"},
                               headers={"xi-api-key": self.api_key},
                               json={"text": text[:MAX_TEXT], "model_id": self.model,
                                     "language_code": "ar" if language == "ary" else language})
        return Speech(pcm=pcm, rate=self.rate, provider=self.name)
