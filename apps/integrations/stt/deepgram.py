"""Deepgram: POST /v1/listen with the WAV as the body; results.channels[0].alternatives[0].{transcript, confidence}."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.stt.base import API_KEY, ISO_LANGUAGE, Transcript, post_json
from apps.voice.audio import wav_write


@dataclass
class DeepgramRecognizer(ProviderBase):
    api_key: str
    model: str = "nova-3"
    base_url: str = "https://api.deepgram.com/v1"
    timeout_s: float = 10.0
    name: str = "deepgram"

    label: ClassVar = "Deepgram"
    fields: ClassVar = (API_KEY, Field("model", _("Model"), required=False, placeholder="nova-3"))

    def supports(self, language: str) -> bool:
        return language in ISO_LANGUAGE

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript:
        body = await post_json(f"{self.base_url}/listen", api_key=self.api_key, timeout_s=self.timeout_s,
                               params={"model": self.model, "language": ISO_LANGUAGE[language],
                                       "smart_format": "true"},
                               headers={"Authorization": f"Token {self.api_key}", "Content-Type": "audio/wav"},
                               content=wav_write(pcm, rate))
        try:
            best = body["results"]["channels"][0]["alternatives"][0]
            return Transcript(text=str(best.get("transcript") or ""), language=language, provider=self.name,
                              confidence=best.get("confidence"))
        except (KeyError, IndexError, TypeError):
            raise ProviderError("Deepgram's answer has no transcript") from None
