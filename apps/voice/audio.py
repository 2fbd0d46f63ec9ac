"""Raw audio for the voice channels: PCM16 little-endian mono, resampling, WAV, and end-of-speech detection.

Everything here is plain bytes in, bytes out; numpy does the arithmetic.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000  # what the widget sends and the recognisers take
FRAME_MS = 20


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """PCM16 mono from one rate to another (linear interpolation: speech, not music)."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    count = int(len(samples) * to_rate / from_rate)
    positions = np.arange(count, dtype=np.float64) * (from_rate / to_rate)
    return np.interp(positions, np.arange(len(samples)), samples).astype("<i2").tobytes()


def rms(pcm: bytes) -> float:
    """Root mean square of PCM16 samples (0 for silence, ~32768 at full scale)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0


def wav_read(data: bytes) -> tuple[bytes, int]:
    """(PCM16 mono, sample rate) from a WAV file's bytes; stereo is mixed down."""
    with wave.open(io.BytesIO(data)) as reader:
        if reader.getsampwidth() != 2:
            raise ValueError("only 16-bit WAV is supported")
        rate, channels = reader.getframerate(), reader.getnchannels()
        pcm = reader.readframes(reader.getnframes())
    if channels > 1:
        samples = np.frombuffer(pcm, dtype="<i2").reshape(-1, channels).mean(axis=1)
        pcm = samples.astype("<i2").tobytes()
    return pcm, rate


def wav_write(pcm: bytes, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


def duration_s(pcm: bytes, rate: int) -> float:
    return len(pcm) / 2 / rate


@dataclass
class VadEvent:
    kind: str  # "start" (speech began) or "end" (an utterance, in `audio`)
    audio: bytes = b""


@dataclass
class EndpointDetector:
    """Energy-based turn taking on a 16 kHz stream: speech starts after `start_ms` of loud frames and an
    utterance ends after `silence_ms` of quiet ones (or at `max_ms`). The threshold follows the noise floor,
    so a noisy room does not count as speech."""

    rate: int = SAMPLE_RATE
    threshold: float = 500.0
    start_ms: int = 60
    silence_ms: int = 700
    max_ms: int = 15_000
    pre_roll_ms: int = 200
    _pending: bytes = b""
    _speech: bytearray = field(default_factory=bytearray)
    _history: list[bytes] = field(default_factory=list)
    _loud_ms: int = 0
    _quiet_ms: int = 0
    _speaking: bool = False
    _noise: float = 100.0

    @property
    def speaking(self) -> bool:
        return self._speaking

    def _frame_bytes(self) -> int:
        return self.rate * FRAME_MS // 1000 * 2

    def feed(self, pcm: bytes) -> list[VadEvent]:
        events: list[VadEvent] = []
        self._pending += pcm
        size = self._frame_bytes()
        while len(self._pending) >= size:
            frame, self._pending = self._pending[:size], self._pending[size:]
            events.extend(self._frame(frame))
        return events

    def _frame(self, frame: bytes) -> list[VadEvent]:
        level = rms(frame)
        loud = level > max(self.threshold, self._noise * 3)
        if not loud and not self._speaking:
            self._noise = 0.95 * self._noise + 0.05 * level
        if not self._speaking:
            self._history = (self._history + [frame])[-(self.pre_roll_ms // FRAME_MS):]
            self._loud_ms = self._loud_ms + FRAME_MS if loud else 0
            if self._loud_ms >= self.start_ms:
                self._speaking, self._quiet_ms = True, 0
                self._speech = bytearray(b"".join(self._history))
                self._history = []
                return [VadEvent("start")]
            return []
        self._speech += frame
        self._quiet_ms = 0 if loud else self._quiet_ms + FRAME_MS
        if self._quiet_ms >= self.silence_ms or len(self._speech) / 2 / self.rate * 1000 >= self.max_ms:
            return [self.flush()]
        return []

    def flush(self) -> VadEvent:
        """End the utterance now (the visitor released the button)."""
        audio = bytes(self._speech)
        self._speech, self._speaking, self._loud_ms, self._quiet_ms = bytearray(), False, 0, 0
        return VadEvent("end", audio)


# G.711 μ-law (telephone audio: Twilio's Media Streams are μ-law 8 kHz mono, 160 bytes per 20 ms) -----------
# Table-based, no audioop (removed in Python 3.13): one 256-entry table decodes, one 65,536-entry table encodes.

MULAW_RATE = 8_000
MULAW_FRAME = MULAW_RATE * FRAME_MS // 1000  # bytes (= samples) per 20 ms frame
_MULAW_BIAS = 0x84


def _mulaw_decode_table() -> np.ndarray:
    inverted = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent, mantissa = (inverted >> 4) & 0x07, inverted & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(inverted & 0x80, -magnitude, magnitude).astype("<i2")


def _mulaw_encode_table() -> np.ndarray:
    """The reference encoder (Sun's g711.c, as CPython's audioop): 14-bit magnitude, bias 33, clip 8159."""
    value = np.arange(-32_768, 32_768, dtype=np.int32) >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(value), 8_159) + 0x21
    segment = np.searchsorted(np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]), value)
    coded = np.where(segment >= 8, 0x7F, (np.minimum(segment, 7) << 4) | ((value >> (segment + 1)) & 0x0F))
    return np.roll((coded ^ mask).astype(np.uint8), -32_768)  # indexed by the sample's bits read as uint16


MULAW_DECODE = _mulaw_decode_table()
MULAW_ENCODE = _mulaw_encode_table()


def mulaw_decode(data: bytes) -> bytes:
    """μ-law bytes → PCM16 little-endian, sample for sample."""
    return MULAW_DECODE[np.frombuffer(data, dtype=np.uint8)].tobytes()


def mulaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → μ-law bytes (G.711, with its bias and clipping)."""
    return MULAW_ENCODE[np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<u2")].tobytes()
