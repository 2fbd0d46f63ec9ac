"""Speech to text: one utterance of PCM16 in, its words out.

    transcript = await recognizer.transcribe(pcm, rate=16000, language="en")

`pocketsphinx.PocketSphinxRecognizer` is the offline twin (English only, against a grammar of what visitors say
to a business: free-form recognition of synthetic speech is poor, a grammar makes it exact, see STACK-NOTES.md);
`deepgram.DeepgramRecognizer` and `openai.OpenAIRecognizer` are the cloud providers (all five languages, Darija
as Arabic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field
from apps.integrations.wire import post_checked

# The cloud services know Modern Standard Arabic; Darija is sent as Arabic.
ISO_LANGUAGE = {"fr": "fr", "en": "en", "es": "es", "ar": "ar", "ary": "ar"}
API_KEY = Field("api_key", _("API key"), secret=True)


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    provider: str
    confidence: float | None = None


class SpeechToText(Protocol):
    name: str

    def supports(self, language: str) -> bool: ...

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript: ...


async def post_json(url: str, *, api_key: str, timeout_s: float, **kwargs: Any) -> dict[str, Any]:
    response = await post_checked(url, api_key=api_key, timeout_s=timeout_s, **kwargs)
    try:
        body = response.json()
    except ValueError:
        raise ProviderError("the speech service answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderError("the speech service answered an unexpected JSON shape")
    return body
