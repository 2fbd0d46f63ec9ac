"""The offline twin: English recognition with pocketsphinx's bundled en-US model and grammars/visitor-en.jsgf.

pocketsphinx keeps the GIL while it decodes: with VOICE_STT_PROCESSES > 0 (the default, 2) the decoding runs in
that many spawned worker processes (sphinx_worker.py), so the event loop of a voice or phone socket never
stalls — 20 ms telephone frames keep their pace while someone else's utterance is decoded. 0: a thread, as before
(tests, one-off scripts).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import ProviderBase
from apps.integrations.stt.base import Transcript
from apps.voice.audio import SAMPLE_RATE, resample

GRAMMARS = Path(__file__).parent / "grammars"
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def decoding_pool() -> ProcessPoolExecutor | None:
    """The process pool the decoding runs in (created on first use), or None when VOICE_STT_PROCESSES is 0."""
    global _pool
    workers = int(getattr(settings, "VOICE_STT_PROCESSES", 0) or 0)
    if workers <= 0:
        return None
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        return _pool


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
        pcm = resample(pcm, rate, SAMPLE_RATE)
        pool = decoding_pool()
        if pool is None:
            text = await asyncio.to_thread(self._decode, pcm)
        else:
            from apps.integrations.stt import sphinx_worker

            text = await asyncio.get_running_loop().run_in_executor(
                pool, sphinx_worker.decode, str(self.grammar), SAMPLE_RATE, pcm)
        return Transcript(text=text, language=language, provider=self.name)
