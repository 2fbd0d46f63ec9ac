"""Twilio's sockets: what both share (CallConsumer), and ConversationRelay (text in, text out); Media Streams
(audio) is apps/telephony/media.py. Transport only; the engine answers.

    ← setup {callSid, from, to, customParameters: {token}}   the token must name this call and client
    ← prompt {voicePrompt, lang, last}   → text {token, last, lang, interruptible} … (streamed), language, end
    ← interrupt {utteranceUntilInterrupt, durationUntilInterruptMs}   the turn stops; the transcript keeps
                                                                       only what the caller heard
    ← dtmf {digit}                        a turn of its own ("1"): menus and confirmations
    ← error {description}                 noted on the call's timeline
    → end {handoffData}                   a transfer (the <Connect action> answers with <Dial>) or the end

The handshake was checked by apps.telephony.sockets (X-Twilio-Signature over the wss:// URL). Messages are
only decoded and queued in `receive`; one task per socket runs the call, one task per turn streams the
reply, so an `interrupt` is read while a turn runs. A socket that drops finalises the call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from apps.agents import engine
from apps.calls.selectors import CallSession, call_session
from apps.calls.services import call_finalise, call_heard, call_note, call_turn_record
from apps.core.channels_tenancy import ClientConsumer
from apps.core.errors import VocaliaError
from apps.core.inputs import json_parse, text_clean
from apps.telephony.languages import language_from_bcp47, relay_language
from apps.telephony.slots import slot_refresh
from apps.telephony.sockets import CLOSE_FORBIDDEN
from apps.telephony.tokens import call_token_read

logger = logging.getLogger(__name__)
SETUP_TIMEOUT_S = 10
MAX_PROMPT_CHARS = 2000
MAX_MALFORMED = 10  # Twilio's own rule for what we send; we apply it to what we read
TOKEN_RE = re.compile(r"\S+\s*|\s+")
DIGITS = set("0123456789*#")
PARSE_KEY = "\x00parse_s"  # json_parse strips NUL: no message from outside has this key


def tokens_of(text: str) -> list[str]:
    """A reply as the words Twilio's speech receives one by one (spaces kept: Twilio joins tokens as is)."""
    return TOKEN_RE.findall(text)


class CallConsumer(ClientConsumer):
    """What both Twilio sockets share: messages decoded and queued in `receive`, one task that runs the call, one
    task per turn, the call token checked on the first message, the engine's turn, the end of the call.

    Subclasses name their protocol (`kind_key`: "type" for ConversationRelay, "event" for Media Streams), open
    the call from its first message (`_first`), handle the others (`_handle`) and say the reply (`_reply`)."""

    session: CallSession | None = None
    kind_key = "type"
    protocol = "relay"

    async def connect(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=self.queue_size)
        self.turn: asyncio.Task[None] | None = None
        self.session = None
        self.ending = False  # we end the socket on purpose: the call goes on through the <Connect action>
        self.end_reason = "socket-closed"
        self.malformed = 0
        self.language = ""
        await self.accept()
        self.runner = asyncio.create_task(self._run())

    queue_size = 256

    timed = False  # stamp each queued message with the time its decoding took (PARSE_KEY)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            message = json_parse(text_data or "")
        except VocaliaError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get(self.kind_key), str):
            self.malformed += 1
            if self.malformed >= MAX_MALFORMED:
                await self.close(code=CLOSE_FORBIDDEN)
            return
        self.malformed = 0
        if self.timed:
            message[PARSE_KEY] = time.perf_counter() - started
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("%s socket queue full; dropped a %s", self.protocol, message[self.kind_key])

    async def disconnect(self, code: int) -> None:
        self.runner.cancel()
        await self._cancel_turn()
        await asyncio.gather(self.runner, return_exceptions=True)
        await self._stopped()
        if self.session is not None and not self.ending:
            await self.db(call_finalise, call_sid=self.session.call_sid, client_id=self.client.pk,
                          reason=self.end_reason)

    async def _stopped(self) -> None:
        """The socket is gone: stop what the subclass runs besides the turn."""

    # The call ---------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            self.session = await asyncio.wait_for(self._first(), SETUP_TIMEOUT_S)
        except TimeoutError:
            self.session = None
        if self.session is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.language = self.session.language
        await self._opened()
        while True:
            await self._handle(await self.queue.get())

    async def _first(self) -> CallSession | None:
        raise NotImplementedError

    async def _opened(self) -> None:
        """The call is open (token checked): what the protocol does first."""

    async def _handle(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def _session_for(self, parameters: Any, call_sid: Any) -> CallSession | None:
        """The call the signed token in `customParameters` names — this client's, this call sid's — or None."""
        token = call_token_read(str(parameters.get("token") or "") if isinstance(parameters, dict) else "")
        if token is None or token.client_id != self.client.pk or token.call_sid != call_sid:
            logger.warning("%s socket refused: call token missing, forged or for another call", self.protocol)
            return None
        return await self.db(call_session, call_sid=token.call_sid, conversation_id=token.conversation_id)

    async def _cancel_turn(self) -> None:
        turn, self.turn = self.turn, None
        if turn is not None and not turn.done():
            turn.cancel()
            await asyncio.gather(turn, return_exceptions=True)

    async def _start_turn(self, text: str, lang: str, **extra: Any) -> None:
        await self._cancel_turn()  # a new prompt preempts the reply still being spoken
        self.turn = asyncio.create_task(self._reply(text, lang, **extra))

    async def _reply(self, text: str, lang: str, **extra: Any) -> None:
        raise NotImplementedError

    async def _dtmf(self, digit: str) -> None:
        """A key pressed: noted on the timeline, and a turn of its own ("1": menus and confirmations)."""
        assert self.session is not None
        if len(digit) == 1 and digit in DIGITS:
            await self.db(call_note, call_sid=self.session.call_sid, event="dtmf", detail=digit)
            await self._start_turn(digit, "")

    # One turn, whatever the protocol -------------------------------------------------------------------------

    async def _language_switched(self, language: str) -> None:
        """The call now speaks `language` (the engine detected it): tell the other side if it must know."""

    async def _engine_turn(self, text: str, lang: str, outcome: TurnOutcome) -> AsyncIterator[str]:
        """The engine's turn on the caller's words: its reply as text deltas; the hand-over / end in `outcome`.
        The call follows the language the engine detected (or the one the recogniser heard)."""
        conversation_id = self.session.conversation_id  # type: ignore[union-attr]
        heard_language = language_from_bcp47(lang, current="")
        opened = await self.db(lambda: engine.turn_open(client=self.client, conversation=engine._load(conversation_id),
                                                        text=text))
        state = opened.turn.conversation.state if isinstance(opened.turn.conversation.state, dict) else {}
        language = str(state.get("language") or heard_language or self.language)
        if language and language != self.language:
            await self._language_switched(language)
            self.language = language
        async for event in engine.turn_continue(client=self.client, opened=opened):
            if isinstance(event, engine.Delta):
                yield event.text
            elif isinstance(event, engine.HandOver):
                outcome.handover = event
            elif isinstance(event, engine.Ended):
                outcome.ended = True

    async def _turn_record(self, *, recognition_ms: int | None, engine_ms: int | None,
                           speech_ms: int | None) -> None:
        """The turn's latency split on the call, its language, and the call's concurrency slot kept alive."""
        assert self.session is not None
        await self.db(call_turn_record, call_sid=self.session.call_sid, recognition_ms=recognition_ms,
                      engine_ms=engine_ms, speech_ms=speech_ms, language=self.language)
        slot_refresh(client_id=self.client.pk, call_sid=self.session.call_sid)


@dataclass
class TurnOutcome:
    handover: engine.HandOver | None = None
    ended: bool = False


class RelayConsumer(CallConsumer):
    async def _first(self) -> CallSession | None:
        setup = await self.queue.get()
        if setup.get("type") != "setup":
            return None
        return await self._session_for(setup.get("customParameters"), setup.get("callSid"))

    async def _handle(self, message: dict[str, Any]) -> None:
        assert self.session is not None
        kind = message["type"]
        if kind == "prompt":
            if message.get("last") is False:
                return  # a partial prompt: wait for the caller to finish
            text = text_clean(str(message.get("voicePrompt") or ""))[:MAX_PROMPT_CHARS].strip()
            if text:
                await self._start_turn(text, str(message.get("lang") or ""))
        elif kind == "interrupt":
            await self._interrupt(message)
        elif kind == "dtmf":
            await self._dtmf(str(message.get("digit") or ""))
        elif kind == "error":
            detail = text_clean(str(message.get("description") or ""))[:200]
            await self.db(call_note, call_sid=self.session.call_sid, event="relay-error", detail=detail)

    async def _interrupt(self, message: dict[str, Any]) -> None:
        assert self.session is not None
        await self._cancel_turn()
        heard = text_clean(str(message.get("utteranceUntilInterrupt") or ""))[:5000]
        await self.db(call_heard, conversation_id=self.session.conversation_id, heard=heard)
        duration = message.get("durationUntilInterruptMs")
        await self.db(call_note, call_sid=self.session.call_sid, event="interrupt",
                      detail=str(duration) if isinstance(duration, int) else "")

    # One turn -----------------------------------------------------------------------------------------------

    async def _send(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(payload, ensure_ascii=False))

    async def _language_switched(self, language: str) -> None:
        code = relay_language(language).code
        await self._send({"type": "language", "ttsLanguage": code, "transcriptionLanguage": code})

    async def _reply(self, text: str, lang: str, **extra: Any) -> None:
        started = time.perf_counter()
        pending, first_ms = "", None
        outcome = TurnOutcome()
        code = ""
        async for delta in self._engine_turn(text, lang, outcome):
            code = code or relay_language(self.language).code
            for token in tokens_of(delta):
                if pending:
                    await self._send({"type": "text", "token": pending, "last": False, "lang": code,
                                      "interruptible": True})
                    first_ms = first_ms if first_ms is not None else round((time.perf_counter() - started) * 1000)
                pending = token
        code = code or relay_language(self.language).code
        if pending or first_ms is None:
            await self._send({"type": "text", "token": pending, "last": True, "lang": code, "interruptible": True})
        first_ms = first_ms if first_ms is not None else round((time.perf_counter() - started) * 1000)
        await self._turn_record(recognition_ms=None, engine_ms=first_ms, speech_ms=None)
        if outcome.handover is not None:
            self.ending = True
            await self._send({"type": "end", "handoffData": json.dumps(
                {"reason": "handover", "summary": outcome.handover.reason[:300]}, ensure_ascii=False)})
        elif outcome.ended:
            self.ending = True
            await self._send({"type": "end", "handoffData": json.dumps({"reason": "ended"})})
