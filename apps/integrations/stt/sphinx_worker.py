"""The offline recogniser's worker process: pocketsphinx holds the GIL while it decodes (measured: a 1.5 s
utterance stalls every other coroutine of the process for ~0.3 s, four at once for 0.7 s), so in a server the
decoding runs here, in processes of its own (apps/integrations/stt/pocketsphinx.py). Imports nothing of Django:
a spawned process loads only this module and pocketsphinx's model, once."""

from __future__ import annotations

from typing import Any

_decoders: dict[tuple[str, int], Any] = {}


def decode(grammar: str, rate: int, pcm: bytes) -> str:
    """The words of one utterance (PCM16 mono at `rate`) against the JSGF grammar at `grammar`."""
    decoder = _decoders.get((grammar, rate))
    if decoder is None:
        from pocketsphinx import Decoder

        decoder = _decoders[(grammar, rate)] = Decoder(jsgf=grammar, samprate=rate, logfn="/dev/null")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return hypothesis.hypstr if hypothesis else ""
