"""The offline twin: espeak-ng (Debian package) speaks fr, en, es, ar; Darija with the Arabic voice."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from dataclasses import dataclass
from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import ProviderBase
from apps.integrations.tts.base import MAX_TEXT, Speech
from apps.voice.audio import wav_read

ESPEAK_VOICES = {"fr": "fr", "en": "en-us", "es": "es", "ar": "ar", "ary": "ar"}


@dataclass
class EspeakSpeaker(ProviderBase):
    words_per_minute: int = 165
    name: str = "builtin"

    label: ClassVar = _("Built-in (offline)")
    offline: ClassVar = True

    async def synthesize(self, text: str, *, language: str) -> Speech:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ProviderError("espeak-ng is not installed (apt-get install espeak-ng)", permanent=True)
        # The text goes in on stdin, never as an argument.
        process = await asyncio.create_subprocess_exec(
            binary, "-v", ESPEAK_VOICES.get(language, "en-us"), "-s", str(self.words_per_minute), "--stdout",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await process.communicate(text[:MAX_TEXT].encode())
        except BaseException:  # a cancelled turn (barge-in, hang-up) must not leave espeak-ng speaking to nobody
            if process.returncode is None:
                # killed, not awaited: asyncio's child watcher reaps it, and waiting here could hang the
                # cancellation (wait() also waits for the pipes that the cancelled communicate() left open)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            raise
        if process.returncode != 0 or not out:
            raise ProviderError(f"espeak-ng failed: {err.decode(errors='replace')[:200]}")
        pcm, rate = wav_read(out)
        return Speech(pcm=pcm, rate=rate, provider=self.name)
