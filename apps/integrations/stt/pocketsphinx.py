"""The offline twin: English recognition with pocketsphinx's bundled en-US model and grammars/visitor-en.jsgf."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import ProviderBase
from apps.integrations.stt.base import Transcript
from apps.voice.audio import SAMPLE_RATE, resample

GRAMMARS = Path(__file__).parent / "grammars"


class PocketSphinxRecognizer(ProviderBase):
    name = "builtin"
    label = _("Built-in (offline, English)")
    offline = True

    def __init__(self, grammar: Path = GRAMMARS / "visitor-en.jsgf") -> None:
        self.grammar = grammar
        self._decoders: queue.SimpleQueue[Any] = queue.SimpleQueue()  # decoders are not thread-safe: one per call

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> PocketSphinxRecognizer:
        from apps.integrations.resolver import builtin_recognizer

        return builtin_recognizer()  # one per process: its decoders load a 30 MB model

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
