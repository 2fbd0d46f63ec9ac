"""Speech to text: one utterance of PCM16 in, its words out.

    transcript = await recognizer.transcribe(pcm, rate=16000, language="en")

`PocketSphinxRecognizer` is the offline twin (English only, against a grammar of what visitors say to a
business: free-form recognition of synthetic speech is poor, a grammar makes it exact, see STACK-NOTES.md);
`DeepgramRecognizer` and `OpenAIRecognizer` are the cloud providers (all five languages, Darija as Arabic).
"""

from __future__ import annotations

import asyncio
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from apps.agents.llm.wire import post_checked
from apps.core.errors import ProviderError
from apps.voice.audio import SAMPLE_RATE, resample, wav_write

GRAMMARS = Path(__file__).parent / "grammars"
# The cloud services know Modern Standard Arabic; Darija is sent as Arabic.
ISO_LANGUAGE = {"fr": "fr", "en": "en", "es": "es", "ar": "ar", "ary": "ar"}


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


class PocketSphinxRecognizer:
    """Offline English recognition with pocketsphinx's bundled en-US model and grammars/visitor-en.jsgf."""

    name = "builtin"

    def __init__(self, grammar: Path = GRAMMARS / "visitor-en.jsgf") -> None:
        self.grammar = grammar
        self._decoders: queue.SimpleQueue[Any] = queue.SimpleQueue()  # decoders are not thread-safe: one per call

    def supports(self, language: str) -> bool:
        return language == "en"

    def _decoder(self) -> Any:
        try:
            return self._decoders.get_nowait()
        except queue.Empty:
            from pocketsphinx import Decoder  # imported on first use: it loads a 30 MB model

            return Decoder(jsgf=str(self.grammar), samprate=SAMPLE_RATE, logfn="/dev/null")

    def _decode(self, pcm: bytes) -> str:
        decoder = self._decoder()
        try:
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
            return hypothesis.hypstr if hypothesis else ""
        finally:
            self._decoders.put(decoder)

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript:
        if not self.supports(language):
            raise ProviderError(f"the offline recogniser understands English only, not {language!r}",
                                permanent=True)
        text = await asyncio.to_thread(self._decode, resample(pcm, rate, SAMPLE_RATE))
        return Transcript(text=text, language=language, provider=self.name)


async def _post(url: str, *, api_key: str, timeout_s: float, **kwargs: Any) -> dict[str, Any]:
    response = await post_checked(url, api_key=api_key, timeout_s=timeout_s, **kwargs)
    try:
        body = response.json()
    except ValueError:
        raise ProviderError("the speech service answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise ProviderError("the speech service answered an unexpected JSON shape")
    return body


@dataclass
class DeepgramRecognizer:
    """POST /v1/listen with the WAV as the body; results.channels[0].alternatives[0].{transcript, confidence}."""

    api_key: str
    model: str = "nova-3"
    base_url: str = "https://api.deepgram.com/v1"
    timeout_s: float = 10.0
    name: str = "deepgram"

    def supports(self, language: str) -> bool:
        return language in ISO_LANGUAGE

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript:
        body = await _post(f"{self.base_url}/listen", api_key=self.api_key, timeout_s=self.timeout_s,
                           params={"model": self.model, "language": ISO_LANGUAGE[language], "smart_format": "true"},
                           headers={"Authorization": f"Token {self.api_key}", "Content-Type": "audio/wav"},
                           content=wav_write(pcm, rate))
        try:
            best = body["results"]["channels"][0]["alternatives"][0]
            return Transcript(text=str(best.get("transcript") or ""), language=language, provider=self.name,
                              confidence=best.get("confidence"))
        except (KeyError, IndexError, TypeError):
            raise ProviderError("Deepgram's answer has no transcript") from None


@dataclass
class OpenAIRecognizer:
    """POST /v1/audio/transcriptions (multipart: file, model, language); the answer is {"text": ...}."""

    api_key: str
    model: str = "gpt-4o-mini-transcribe"
    base_url: str = "https://api.openai.com/v1"
    timeout_s: float = 10.0
    name: str = "openai"

    def supports(self, language: str) -> bool:
        return language in ISO_LANGUAGE

    async def transcribe(self, pcm: bytes, *, rate: int, language: str) -> Transcript:
        body = await _post(f"{self.base_url}/audio/transcriptions", api_key=self.api_key, timeout_s=self.timeout_s,
                           headers={"Authorization": f"Bearer {self.api_key}"},
                           data={"model": self.model, "language": ISO_LANGUAGE[language], "response_format": "json"},
                           files={"file": ("speech.wav", wav_write(pcm, rate), "audio/wav")})
        if not isinstance(body.get("text"), str):
            raise ProviderError("OpenAI's answer has no text")
        return Transcript(text=body["text"], language=language, provider=self.name)
