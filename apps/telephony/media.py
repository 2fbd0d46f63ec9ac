"""Twilio's bidirectional Media Streams: the caller's audio in, ours out — our end-pointer, recogniser and voice.

    ← connected {protocol, version}
    ← start {streamSid, start: {callSid, customParameters: {token, language}, mediaFormat: {audio/x-mulaw, 8000, 1}}}
    ← media {media: {track: inbound, chunk, timestamp, payload: base64 μ-law}}   50 a second
    ← dtmf {dtmf: {track, digit}}      a turn of its own, as in ConversationRelay
    ← mark {mark: {name}}              Twilio has played our audio up to that mark
    ← stop {stop: {callSid}}           the stream is over
    → media {streamSid, media: {payload}}   one 20 ms frame (160 bytes of μ-law), paced in real time
    → mark {streamSid, mark: {name}}        after each sentence: its echo says the caller heard it
    → clear {streamSid}                     barge-in: Twilio drops the audio it has not played yet

μ-law 8 kHz → PCM16 → 16 kHz → the widget's end-pointer (apps.voice.audio.EndpointDetector) → on end of speech the
recogniser (apps.voice.providers.recognizer_for, the offline twin by default) → the engine's turn, shared with
ConversationRelay (apps.telephony.consumers.CallConsumer) → sentence by sentence the voice (speaker_for) → 8 kHz →
μ-law → a player task that sends one frame every 20 ms against the loop's clock, then the sentence's mark.

Barge-in: the caller starts speaking while we speak (frames queued, marks not yet echoed, or a turn running) →
`clear`, the turn is cancelled, the queued frames dropped, and the agent's message keeps only the sentences
whose marks came back before the `clear`. A hand-over or the end of the call: once the last mark is echoed we
note it on the call and close the socket; Twilio then asks the <Connect action> (apps.telephony.answering).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from apps.calls.selectors import CallSession
from apps.calls.services import call_handover_update, call_heard, call_note
from apps.conversations.models import Message
from apps.core.errors import ProviderError
from apps.integrations.resolver import accounts_enabled
from apps.telephony.consumers import PARSE_KEY, CallConsumer, TurnOutcome
from apps.voice.audio import (
    MULAW_FRAME,
    MULAW_RATE,
    SAMPLE_RATE,
    EndpointDetector,
    duration_s,
    mulaw_decode,
    mulaw_encode,
    resample,
)
from apps.voice.providers import builtin_speaker, recognizer_for, speaker_for

logger = logging.getLogger(__name__)

FRAME_S = MULAW_FRAME / MULAW_RATE  # 0.02
LEAD_S = 0.060  # frames go out this much ahead of the moment they play (Twilio buffers): a short stall is absorbed
LATE_S = 0.010  # a frame sent more than this after the start of its 20 ms slot (when it should play) is late
MAX_PAYLOAD = 4 * 1024  # base64 characters of one inbound media message (Twilio sends 160 bytes: 216)
MIN_UTTERANCE_S = 0.25
SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+|\n+")


@dataclass
class PacingStats:
    """Every frame the players of this process sent, and how many missed their slot (bench/phone.py reads it)."""

    frames: int = 0
    late: int = 0
    worst_s: float = 0.0
    handling: list[float] = field(default_factory=list)  # seconds per inbound media message, when `measure`
    first_audio: list[float] = field(default_factory=list)  # end of speech → first frame of the reply, seconds
    measure: bool = False

    def reset(self, *, measure: bool = False) -> None:
        self.frames, self.late, self.worst_s, self.measure = 0, 0, 0.0, measure
        self.handling, self.first_audio = [], []


PACING = PacingStats()


@dataclass
class Spoken:
    """One sentence queued to the caller: its frames, and the mark that tells us it was played."""

    mark: str
    text: str
    frames: list[bytes]
    turn: int


def frames_of(pcm: bytes, rate: int) -> list[bytes]:
    """PCM16 at `rate` → 20 ms frames of μ-law 8 kHz (the last one padded with silence)."""
    coded = mulaw_encode(resample(pcm, rate, MULAW_RATE))
    if len(coded) % MULAW_FRAME:
        coded += b"\xff" * (MULAW_FRAME - len(coded) % MULAW_FRAME)  # 0xFF is μ-law's zero
    return [coded[offset:offset + MULAW_FRAME] for offset in range(0, len(coded), MULAW_FRAME)]


def sentences_of(text: str) -> tuple[list[str], str]:
    """Whole sentences ready to speak, and the unfinished rest."""
    parts = SENTENCE_END.split(text)
    return [part.strip() for part in parts[:-1] if part.strip()], parts[-1]


def _opening(conversation_id: int) -> str:
    """What the agent says when the stream opens: the conversation's last message when it is the agent's (the
    greeting, or the words it takes the caller back with after a transfer that failed)."""
    last = Message.objects.filter(conversation_id=conversation_id).exclude(role=Message.Role.EVENT).order_by("-id") \
        .values_list("role", "text").first()
    return last[1] if last is not None and last[0] == Message.Role.ASSISTANT else ""


def _opened_call(client: Any, conversation_id: int) -> tuple[str, list[Any]]:
    return _opening(conversation_id), accounts_enabled(client=client)


class MediaStreamConsumer(CallConsumer):
    kind_key = "event"
    protocol = "media"
    queue_size = 1024  # 20 s of audio

    @property
    def timed(self) -> bool:  # type: ignore[override]
        return PACING.measure

    async def connect(self) -> None:
        self.stream_sid = ""
        self.detector = EndpointDetector()
        self.outbox: deque[Spoken] = deque()  # sentences not yet (fully) sent
        self.unheard: dict[str, Spoken] = {}  # sent, mark not yet echoed
        self.heard: list[str] = []  # this turn's sentences whose marks came back
        self.turn_no = 0
        self.marks = 0
        self.wake = asyncio.Event()
        self.player: asyncio.Task[None] | None = None
        self.finish: TurnOutcome | None = None  # a hand-over / end to carry out once everything is heard
        self.accounts: list[Any] = []
        self.speech_ended_at: float | None = None
        self.replying = False
        await super().connect()

    async def _stopped(self) -> None:
        if self.player is not None:
            self.player.cancel()
            await asyncio.gather(self.player, return_exceptions=True)

    # Opening ------------------------------------------------------------------------------------------------

    async def _first(self) -> CallSession | None:
        while True:
            message = await self.queue.get()
            if message["event"] == "connected":
                continue
            if message["event"] != "start" or not isinstance(message.get("start"), dict):
                return None
            start = message["start"]
            media_format = start.get("mediaFormat") if isinstance(start.get("mediaFormat"), dict) else {}
            if media_format.get("encoding") != "audio/x-mulaw" or str(media_format.get("sampleRate")) != "8000":
                logger.warning("media socket refused: format %r", media_format)
                return None
            stream_sid = message.get("streamSid") or start.get("streamSid")
            if not isinstance(stream_sid, str) or not stream_sid or len(stream_sid) > 64:
                return None
            session = await self._session_for(start.get("customParameters"), start.get("callSid"))
            if session is not None:
                self.stream_sid = stream_sid
            return session

    async def _opened(self) -> None:
        assert self.session is not None
        opening, self.accounts = await self.db(_opened_call, self.client, self.session.conversation_id)
        self.recognizer = recognizer_for(self.language, client=self.client, accounts=self.accounts)
        self.speaker = speaker_for(self.client, accounts=self.accounts)
        self.player = asyncio.create_task(self._play())
        if opening:
            self.turn = asyncio.create_task(self._speak_only(opening))

    # In -----------------------------------------------------------------------------------------------------

    async def _handle(self, message: dict[str, Any]) -> None:
        assert self.session is not None
        kind = message["event"]
        if message.get("streamSid") not in (None, self.stream_sid):
            return  # not this stream's
        if kind == "media":
            media = message.get("media")
            if isinstance(media, dict) and media.get("track", "inbound") in ("inbound", "inbound_track"):
                started = time.perf_counter()
                await self._audio(media.get("payload"))
                if PACING.measure:  # decoding the JSON (in `receive`) + decoding, resampling, end-pointing
                    PACING.handling.append(time.perf_counter() - started + message.get(PARSE_KEY, 0.0))
        elif kind == "mark":
            mark = message.get("mark")
            self._heard(str(mark.get("name") or "") if isinstance(mark, dict) else "")
        elif kind == "dtmf":
            dtmf = message.get("dtmf")
            digit = str(dtmf.get("digit") or "") if isinstance(dtmf, dict) else ""
            if len(digit) == 1:
                await self._barge_in()
                await self._dtmf(digit)
        elif kind == "stop":
            self.end_reason = "stream-stopped"
            await self.close()

    async def _audio(self, payload: Any) -> None:
        if not isinstance(payload, str) or not payload or len(payload) > MAX_PAYLOAD:
            return
        try:
            mulaw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return
        pcm = resample(mulaw_decode(mulaw), MULAW_RATE, SAMPLE_RATE)
        for event in self.detector.feed(pcm):
            if event.kind == "start":
                await self._barge_in()  # on every turn start, even if our speech seems over: Twilio may still play
            elif duration_s(event.audio, SAMPLE_RATE) >= MIN_UTTERANCE_S:
                self.speech_ended_at = time.perf_counter()
                await self._start_turn("", "", audio=event.audio)

    def _heard(self, name: str) -> None:
        spoken = self.unheard.pop(name, None)
        if spoken is not None and spoken.turn == self.turn_no:
            self.heard.append(spoken.text)
        self.wake.set()

    # Barge-in -----------------------------------------------------------------------------------------------

    def _speaking(self) -> bool:
        """Audio queued or not yet played, or a reply being made (a turn still recognising is not speech: the
        next utterance's turn replaces it)."""
        return bool(self.outbox or self.unheard) or self.replying

    async def _barge_in(self) -> None:
        """The caller speaks over the agent: Twilio drops what it has not played, and the transcript keeps what
        was heard (the sentences whose marks came back; marks Twilio echoes after the `clear` do not count)."""
        assert self.session is not None
        speaking = self._speaking()
        await self._send({"event": "clear", "streamSid": self.stream_sid})
        if not speaking:
            return
        await self._cancel_turn()
        cut, self.replying = True, False
        self.outbox.clear()
        self.unheard.clear()
        self.finish = None
        heard, self.heard = " ".join(self.heard), []
        self.turn_no += 1
        if cut:
            await self.db(call_heard, conversation_id=self.session.conversation_id, heard=heard)
            await self.db(call_note, call_sid=self.session.call_sid, event="interrupt", detail="")

    # One turn -----------------------------------------------------------------------------------------------

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send_json(payload)

    async def _reply(self, text: str, lang: str, **extra: Any) -> None:
        assert self.session is not None
        self.turn_no += 1
        self.heard, self.replying = [], False
        recognition_ms = None
        audio: bytes | None = extra.get("audio")
        if audio is not None:
            started = time.perf_counter()
            text = await self._recognise(audio)
            recognition_ms = round((time.perf_counter() - started) * 1000)
            if text is None:
                return
        started = time.perf_counter()
        outcome, pending, engine_ms, speech_ms = TurnOutcome(), "", None, None
        self.replying = True  # from here the engine may have stored a reply the caller has not heard
        async for delta in self._engine_turn(text, lang, outcome):
            engine_ms = engine_ms if engine_ms is not None else round((time.perf_counter() - started) * 1000)
            sentences, pending = sentences_of(pending + delta)
            for sentence in sentences:
                took = await self._say(sentence)
                speech_ms = speech_ms if speech_ms is not None else took
        if pending.strip():
            took = await self._say(pending.strip())
            speech_ms = speech_ms if speech_ms is not None else took
        self.replying = False  # the whole reply is queued: what is unheard is in the outbox / unheard marks
        await self._turn_record(recognition_ms=recognition_ms, engine_ms=engine_ms, speech_ms=speech_ms)
        if outcome.handover is not None or outcome.ended:
            self.finish = outcome
            self.wake.set()

    async def _recognise(self, audio: bytes) -> str | None:
        """The caller's words, or None when there are none to answer (we then say so)."""
        if self.recognizer is None:
            with translation.override(self.language):
                await self._say(_("Sorry, I cannot understand speech in this language on this line. "
                                  "You can use the keypad."))
            return None
        try:
            transcript = await self.recognizer.transcribe(audio, rate=SAMPLE_RATE, language=self.language)
        except ProviderError as error:
            logger.warning("speech recognition failed for client %s: %s", self.client.pk, error.message)
            transcript = None
        if transcript is None or not transcript.text.strip():
            with translation.override(self.language):
                await self._say(_("Sorry, I did not catch that. Could you say it again?"))
            return None
        return transcript.text.strip()[:2000]

    async def _speak_only(self, text: str) -> None:
        self.turn_no += 1
        self.heard, self.replying = [], True
        sentences, rest = sentences_of(text)
        for sentence in [*sentences, rest.strip()]:
            if sentence:
                await self._say(sentence)
        self.replying = False

    async def _say(self, sentence: str) -> int:
        """Synthesise one sentence and queue its frames for the player; the synthesis time in ms."""
        started = time.perf_counter()
        try:
            speech = await self.speaker.synthesize(sentence, language=self.language)
        except ProviderError as error:
            if self.speaker.name == "builtin":
                logger.warning("the offline voice failed for client %s: %s", self.client.pk, error.message)
                return round((time.perf_counter() - started) * 1000)
            logger.warning("voice %s failed for client %s: %s; the offline voice speaks", self.speaker.name,
                           self.client.pk, error.message)
            self.speaker = builtin_speaker()
            speech = await self.speaker.synthesize(sentence, language=self.language)
        frames = await asyncio.to_thread(frames_of, speech.pcm, speech.rate) if len(speech.pcm) > 64_000 \
            else frames_of(speech.pcm, speech.rate)
        self.marks += 1
        self.outbox.append(Spoken(mark=f"{self.turn_no}-{self.marks}", text=sentence, frames=frames,
                                  turn=self.turn_no))
        self.wake.set()
        return round((time.perf_counter() - started) * 1000)

    # Out: the player ----------------------------------------------------------------------------------------

    async def _play(self) -> None:
        """One frame per 20 ms against the loop's clock (never a burst: at most LEAD_S ahead of the moment each
        plays, from the first frame of a run of speech), a mark after each sentence; when all is heard and the
        turn asked for it, the hand-over or the end."""
        loop = asyncio.get_running_loop()
        slot: float | None = None  # when the next frame is due; None between runs of speech
        while True:
            if not self.outbox:
                if self.finish is not None and not self.unheard and (self.turn is None or self.turn.done()):
                    await self._finish(self.finish)
                    return
                slot = None
                self.wake.clear()
                await self.wake.wait()
                continue
            spoken = self.outbox[0]
            if not spoken.frames:
                self.outbox.popleft()
                self.unheard[spoken.mark] = spoken
                await self._send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": spoken.mark}})
                continue
            now = loop.time()
            if slot is None:
                slot = now
            elif slot - LEAD_S > now:
                await asyncio.sleep(slot - LEAD_S - now)
                if not self.outbox or self.outbox[0] is not spoken or not spoken.frames:
                    continue  # cleared while we waited
            frame = spoken.frames.pop(0)
            lag = loop.time() - slot
            PACING.frames += 1
            if lag > LATE_S:
                PACING.late += 1
            PACING.worst_s = max(PACING.worst_s, lag)
            if self.speech_ended_at is not None:
                if PACING.measure:
                    PACING.first_audio.append(time.perf_counter() - self.speech_ended_at)
                self.speech_ended_at = None
            await self._send({"event": "media", "streamSid": self.stream_sid,
                              "media": {"payload": base64.b64encode(frame).decode()}})
            slot += FRAME_S

    async def _finish(self, outcome: TurnOutcome) -> None:
        assert self.session is not None
        self.ending = True
        if outcome.handover is not None:
            await self.db(call_handover_update, call_sid=self.session.call_sid, status="requested",
                          summary=outcome.handover.reason[:200])
        await self.close()
