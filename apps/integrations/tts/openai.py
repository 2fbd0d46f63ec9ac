"""OpenAI: POST /v1/audio/speech {model, input, voice, response_format: "pcm"} → raw 24 kHz PCM16 mono."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.integrations.base import Field, ProviderBase
from apps.integrations.tts.base import MAX_TEXT, Speech, post_audio


@dataclass
class OpenAISpeaker(ProviderBase):
    api_key: str
    model: str = "gpt-4o-mini-tts"
    voice: str = "alloy"
    base_url: str = "https://api.openai.com/v1"
    timeout_s: float = 10.0
    name: str = "openai"
    rate: int = 24_000

    label: ClassVar = "OpenAI"
    fields: ClassVar = (Field("api_key", _("API key"), secret=True),
                        Field("model", _("Model"), required=False, placeholder="gpt-4o-mini-tts"),
                        Field("voice", _("Voice"), required=False, placeholder="alloy"),
                        Field("base_url", _("API base URL"), required=False, placeholder="https://api.openai.com/v1"))

    async def synthesize(self, text: str, *, language: str) -> Speech:
        pcm = await post_audio(f"{self.base_url}/audio/speech", api_key=self.api_key, timeout_s=self.timeout_s,
                               headers={"Authorization": f"Bearer {self.api_key}"},
                               json={"model": self.model, "input": text[:MAX_TEXT], "voice": self.voice,
                                     "response_format": "pcm"})
        return Speech(pcm=pcm, rate=self.rate, provider=self.name)
