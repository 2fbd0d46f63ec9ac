"""OpenAI: POST /v1/audio/transcriptions (multipart: file, model, language); the answer is {"text": ...}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.stt.base import API_KEY, ISO_LANGUAGE, Transcript, post_json
from apps.voice.audio import wav_write


@dataclass
class OpenAIRecognizer(ProviderBase):
    api_key: str
    model: str = "gpt-4o-mini-transcribe"
    base_url: str = "https://api.openai.com/v1"
    timeout_s: float = 10.0
    name: str = "openai"

    label: ClassVar = "OpenAI"
    fields: ClassVar = (API_KEY, Field("model", _("Model"), required=False, placeholder="gpt-4o-mini-transcribe"),
                        Field("base_url", _("API base URL"), required=False, placeholder="https://api.openai.com/v1"))

    def supports(self, language: str) -> bool:
        return language in ISO_LANGUAGE

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript:
        body = await post_json(f"{self.base_url}/audio/transcriptions", api_key=self.api_key,
                               timeout_s=self.timeout_s, headers={"Authorization": f"Bearer {self.api_key}"},
                               data={"model": self.model, "language": ISO_LANGUAGE[language],
                                     "response_format": "json"},
                               files={"file": ("speech.wav", wav_write(pcm, rate), "audio/wav")})
        if not isinstance(body.get("text"), str):
            raise ProviderError("OpenAI's answer has no text")
        return Transcript(text=body["text"], language=language, provider=self.name)
