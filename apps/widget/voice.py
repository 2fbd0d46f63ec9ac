"""The widget's voice channel: a WebSocket at /ws/widget/v1/voice/?key=pk_… (docs/widget.md, "Voice").

In: JSON control messages and binary frames of PCM16 little-endian mono microphone audio (16 kHz unless
`start` says otherwise). Out: JSON events and binary frames of the agent's speech (PCM16 at the rate the
preceding `speech` event gives). The same checks as the HTTP API (key, Origin allow-list, plan, quota), then:

    → {"type": "start", "token"?: "…", "language"?: "en", "sample_rate"?: 16000}
    ← {"type": "ready", "conversation", "token", "language", "recognition": true|false, "expires_in"}
    → binary audio …         ← {"type": "speech_started"} when the visitor starts speaking
                             ← {"type": "transcript", "text"} when they stop (700 ms of silence, or "stop")
                             ← {"type": "delta"|"booking"|"lead"|"handover"|"end"|"done", …} as on /messages
                             ← {"type": "speech", "rate", "text"} then binary audio, sentence by sentence
    → {"type": "text", "text"} a typed (or browser-recognised) turn, answered aloud as well
    → {"type": "say", "message": 123} speak a team member's reply (which the widget got by polling) aloud
    → {"type": "stop"} end of utterance now;  → {"type": "interrupt"} stop the agent
    ← {"type": "clear"} barge-in: the visitor spoke over the agent, drop the audio not yet played
    ← {"type": "error", "code", "message"} (the socket stays open unless it is closed with a 44xx code)

Nothing a visitor sends is read before the checks have passed: a refused socket ignores every message
that follows the handshake. Control messages are parsed with `json_parse` (bounded depth and numbers,
NUL stripped) and are at most 16 KB; any message over WEBSOCKET_MAX_MESSAGE_BYTES closes the socket
with 1009 (apps/core/sockets.py). A turn that fails in an unexpected way is logged and answered with
an error event ("server_error"); the session goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import uuid
from collections.abc import Coroutine
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from apps.agents import engine
from apps.billing.usage import usage_record, usage_require
from apps.clients.entitlements import client_may
from apps.conversations.models import Conversation
from apps.conversations.selectors import member_reply_text
from apps.conversations.services import conversation_event_add
from apps.core.channels_tenancy import client_db
from apps.core.errors import (
    FeatureNotInPlan,
    InvalidInput,
    OriginNotAllowed,
    PayloadTooLarge,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    ServicePaused,
    VocaliaError,
)
from apps.core.inputs import json_parse
from apps.core.ratelimit import rate_limit_hit
from apps.integrations.resolver import accounts_enabled
from apps.voice.audio import SAMPLE_RATE, EndpointDetector, duration_s, resample
from apps.voice.providers import builtin_speaker, recognizer_for, speaker_for
from apps.widget.events import event_payload
from apps.widget.models import WidgetSettings
from apps.widget.selectors import conversation_from_token
from apps.widget.services import client_rate_hit, conversation_open, origin_check

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024  # bytes of audio per binary message (2 s at 16 kHz)
MAX_CONTROL = 16 * 1024  # bytes of a JSON control message, as the widget's HTTP bodies
MIN_UTTERANCE_S = 0.25
CHUNK_S = 0.5  # speech is sent in frames of this length
MAX_BAD_MESSAGES = 10
MAX_SPOKEN = 2_000  # characters of a team member's reply read aloud
SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+|\n+")
CLOSE_CODES = {OriginNotAllowed: 4403, FeatureNotInPlan: 4402, QuotaExceeded: 4429, RateLimited: 4429,
               ServicePaused: 4403}


def _admit(client: Any, origin: str) -> tuple[WidgetSettings, list[Any]]:
    """Origin allowed, plan with voice, voice minutes left, and the client's request rate: else an error.

    Also the client's enabled connected accounts (its own speech provider, from the Integrations page), in the
    same database hop: the recogniser and the voice are then chosen on the event loop without the database."""
    settings_row = origin_check(client, origin)
    if not client_may(client, "voice_widget"):
        raise FeatureNotInPlan(_("Voice is not part of this plan: the widget uses the browser's own speech."))
    usage_require(client=client, kind="voice_minute")  # minutes left (plan, wallet, card), or paused: refused
    client_rate_hit(client)
    return settings_row, accounts_enabled(client=client)


def _resume(client: Any, raw_token: str) -> dict[str, Any]:
    conversation = conversation_from_token(client, raw_token)
    if conversation.ended is not None:
        raise InvalidInput(_("This conversation has ended."))
    return {"conversation": conversation.pk, "token": raw_token, "language": conversation.language}


def _text(message: dict[str, Any], field: str) -> str:
    value = message.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("The field “%(field)s” must be text.") % {"field": field})
    return value


def _message_id(message: dict[str, Any]) -> int:
    value = message.get("message")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidInput(_("“message” must be the id of a message (a positive whole number)."))
    return value


def split_sentences(text: str) -> tuple[list[str], str]:
    """Whole sentences ready to speak, and the unfinished rest."""
    parts = SENTENCE_END.split(text)
    return [part.strip() for part in parts[:-1] if part.strip()], parts[-1]


class WidgetVoiceConsumer(AsyncWebsocketConsumer):
    # No channel layer: nothing is ever sent to a voice session from elsewhere, and each layer subscription
    # would hold a blocking Redis connection per open socket.
    channel_layer_alias = "none"

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels hops to the database thread before every frame to close stale connections (50 times a
        # second of audio); client_db already does it around each database call, and keeps a transaction's.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    async def connect(self) -> None:
        self.closed = False
        self.client = self.scope["client"]
        headers = dict(self.scope.get("headers") or [])
        self.origin = headers.get(b"origin", b"").decode("latin-1")
        self.conversation: dict[str, Any] | None = None
        self.turn: asyncio.Task[None] | None = None
        self.detector = EndpointDetector()
        self.input_rate = SAMPLE_RATE
        self.speaking_until = 0.0
        self.opened = asyncio.get_running_loop().time()
        self.session = uuid.uuid4().hex
        self.bad_messages = 0
        self.told_no_recognition = False
        self.reply_stored = False
        self.said: set[int] = set()
        try:
            self.widget, self.accounts = await client_db(self.client, _admit, self.client, self.origin)
        except VocaliaError as error:
            await self.accept()
            await self._error(error)
            await self.close(code=CLOSE_CODES.get(type(error), 4400))
            return
        self.speaker = speaker_for(self.client, accounts=self.accounts)
        self.deadline = asyncio.get_running_loop().call_later(settings.VOICE_MAX_SESSION_S, self._expire)
        await self.accept()

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        self.closed = True  # from now on, nothing the visitor sends is read, and nothing more is said
        await super().close(code=code, reason=reason)
        if self.turn is not None and self.turn is not asyncio.current_task():
            await self._cancel_turn()

    def _expire(self) -> None:
        asyncio.ensure_future(self._close_with(InvalidInput(_("The voice session reached its time limit.")), 4408))

    async def _close_with(self, error: VocaliaError, code: int) -> None:
        await self._error(error)
        await self.close(code=code)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "deadline", None):
            self.deadline.cancel()
        await self._cancel_turn()
        if self.conversation is not None:
            minutes = math.ceil((asyncio.get_running_loop().time() - self.opened) / 60)
            await client_db(self.client, usage_record, kind="voice_minute", quantity=minutes,
                            key=f"widget-voice:{self.conversation['conversation']}:{self.session}")

    # --- in ----------------------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:  # refused at the handshake, or closed since: a message sent meanwhile runs nothing
            return
        try:
            if bytes_data is not None:
                await self._audio(bytes_data)
            else:
                await self._control(text_data or "")
            self.bad_messages = 0
        except VocaliaError as error:
            await self._bad_message(error)
        except Exception:
            logger.exception("voice message failed for client %s", self.client.pk)
            await self._bad_message(None)

    async def _bad_message(self, error: VocaliaError | None) -> None:
        self.bad_messages += 1
        await (self._error(error) if error is not None else self._server_error())
        if self.bad_messages >= MAX_BAD_MESSAGES:
            await self.close(code=4400)

    async def _control(self, raw: str) -> None:
        if len(raw) > MAX_CONTROL:
            raise PayloadTooLarge(_("Control messages are at most 16 KB."))
        message = json_parse(raw)
        if not isinstance(message, dict):
            raise InvalidInput(_("Control messages are JSON objects."))
        kind = message.get("type")
        if kind == "start":
            await self._start(message)
        elif self.conversation is None:
            raise InvalidInput(_("Send a \"start\" message first."))
        elif kind == "text":
            await self._take_turn(self._answer_text(_text(message, "text")))
        elif kind == "say":
            message_id = _message_id(message)
            if message_id not in self.said:  # each reply of the team is spoken once, however often it is asked
                text = await client_db(self.client, member_reply_text,
                                       conversation_id=self.conversation["conversation"], message_id=message_id)
                self.said.add(message_id)
                await self._take_turn(self._say_all(text[:MAX_SPOKEN]))
        elif kind == "stop":
            if self.detector.speaking:
                await self._utterance(self.detector.flush().audio)
        elif kind == "interrupt":
            await self._barge_in()
        else:
            raise InvalidInput(_("Unknown message type."))

    async def _start(self, message: dict[str, Any]) -> None:
        if self.conversation is not None:
            raise InvalidInput(_("This voice session has already started."))
        rate = message.get("sample_rate", SAMPLE_RATE)
        if not isinstance(rate, int) or not 8_000 <= rate <= 48_000:
            raise InvalidInput(_("The sample rate must be a whole number between 8000 and 48000."))
        self.input_rate = rate
        token = _text(message, "token")
        if token:
            self.conversation = await client_db(self.client, _resume, self.client, token)
        else:
            self.conversation = await client_db(self.client, self._open_conversation, message)
        self.recognizer = recognizer_for(self.conversation["language"], client=self.client, accounts=self.accounts)
        await self._send({"type": "ready", **self.conversation, "recognition": self.recognizer is not None})

    def _open_conversation(self, message: dict[str, Any]) -> dict[str, Any]:
        return conversation_open(client=self.client, settings_row=self.widget, origin=self.origin, body=message,
                                 channel=Conversation.Channel.WIDGET_VOICE)

    async def _audio(self, data: bytes) -> None:
        if self.conversation is None:
            raise InvalidInput(_("Send a \"start\" message first."))
        if len(data) > MAX_FRAME or len(data) % 2:
            raise InvalidInput(_("Audio frames are PCM16 mono, at most 64 KB each."))
        if self.recognizer is None:
            if not self.told_no_recognition:
                self.told_no_recognition = True
                raise InvalidInput(_("Speech recognition is not available in this language here: "
                                     "send the words as text."))
            return
        for event in self.detector.feed(resample(data, self.input_rate, SAMPLE_RATE)):
            if event.kind == "start":
                await self._send({"type": "speech_started"})
                if self._busy():
                    await self._barge_in()
            else:
                await self._utterance(event.audio)

    async def _utterance(self, audio: bytes) -> None:
        if duration_s(audio, SAMPLE_RATE) >= MIN_UTTERANCE_S:
            await self._take_turn(self._answer_audio(audio))

    # --- the agent's turn ------------------------------------------------------------------------------

    def _busy(self) -> bool:
        running = self.turn is not None and not self.turn.done()
        return running or asyncio.get_running_loop().time() < self.speaking_until

    async def _take_turn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            if self._busy():
                await self._barge_in()
            rate_limit_hit(scope="widget-visitor", identity=f"{self.client.pk}:{self.conversation['conversation']}",
                           limit=settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE)
            # the minutes this session has used so far must still be covered (the Redis mirror: no database here)
            elapsed = math.ceil((asyncio.get_running_loop().time() - self.opened) / 60)
            usage_require(client=self.client, kind="voice_minute", quantity=elapsed, refresh=False)
        except BaseException:
            work.close()
            raise
        self.reply_stored = False
        self.turn = asyncio.create_task(self._guarded(work))

    async def _guarded(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a turn; whatever it raises is answered (an error event), never a silent, dead task."""
        try:
            await work
        except VocaliaError as error:
            await self._error(error)
        except Exception:
            logger.exception("voice turn failed for client %s", self.client.pk)
            await self._server_error()

    async def _answer_audio(self, audio: bytes) -> None:
        assert self.recognizer is not None
        language = self.conversation["language"]
        try:
            transcript = await self.recognizer.transcribe(audio, rate=SAMPLE_RATE, language=language)
        except ProviderError as error:
            logger.warning("speech recognition failed for client %s: %s", self.client.pk, error.message)
            await self._error(ProviderError(_("Speech recognition failed: please try again or type.")))
            return
        await self._send({"type": "transcript", "text": transcript.text})
        if not transcript.text.strip():
            with translation.override(language):
                await self._say(_("Sorry, I did not catch that. Could you say it again?"))
            return
        await self._answer_text(transcript.text)

    async def _answer_text(self, text: str) -> None:
        pending = ""
        try:
            async for event in engine.turn_stream(client=self.client, conversation_id=self.conversation["conversation"],
                                                  text=text):
                payload = event_payload(event)
                if payload:
                    await self._send({"type": payload[0], **payload[1]})
                if isinstance(event, engine.TurnDone):
                    self.reply_stored = True
                if isinstance(event, engine.Delta):
                    sentences, pending = split_sentences(pending + event.text)
                    for sentence in sentences:
                        await self._say(sentence)
            if pending.strip():
                await self._say(pending.strip())
        except VocaliaError as error:
            await self._error(error)

    async def _say_all(self, text: str) -> None:
        sentences, rest = split_sentences(text)
        for sentence in [*sentences, rest.strip()]:
            if sentence:
                await self._say(sentence)

    async def _say(self, sentence: str) -> None:
        language = self.conversation["language"]
        try:
            speech = await self.speaker.synthesize(sentence, language=language)
        except ProviderError as error:
            if self.speaker.name == "builtin":
                await self._error(ProviderError(_("The agent's voice is not available: its replies are shown as "
                                                  "text.")))
                return
            logger.warning("voice %s failed for client %s: %s; the offline voice speaks", self.speaker.name,
                           self.client.pk, error.message)
            self.speaker = builtin_speaker()
            speech = await self.speaker.synthesize(sentence, language=language)
        await self._send({"type": "speech", "rate": speech.rate, "text": sentence})
        step = int(speech.rate * CHUNK_S) * 2
        for offset in range(0, len(speech.pcm), step):
            if self.closed:
                return
            await self.send(bytes_data=speech.pcm[offset:offset + step])
        now = asyncio.get_running_loop().time()
        self.speaking_until = max(self.speaking_until, now) + duration_s(speech.pcm, speech.rate)

    async def _cancel_turn(self) -> bool:
        turn, self.turn = self.turn, None
        if turn is None or turn.done():
            return False
        turn.cancel()
        try:
            await turn
        except asyncio.CancelledError:
            pass
        return True

    async def _barge_in(self) -> None:
        """The visitor speaks over the agent: stop generating and speaking, and tell the widget to go quiet."""
        was_running = await self._cancel_turn()
        was_speaking = was_running or asyncio.get_running_loop().time() < self.speaking_until
        self.speaking_until = 0.0
        await self._send({"type": "clear"})
        # A reply cut while generated is stored incomplete by the engine; one stored whole gets a note.
        if was_speaking and self.reply_stored:
            await client_db(self.client, conversation_event_add, conversation_id=self.conversation["conversation"],
                            text="visitor interrupted the agent")

    # --- out -------------------------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        if not self.closed:
            await self.send(text_data=json.dumps(message, ensure_ascii=False))

    async def _error(self, error: VocaliaError) -> None:
        await self._send({"type": "error", "code": error.code, "message": str(error.message)})

    async def _server_error(self) -> None:
        await self._send({"type": "error", "code": "server_error",
                          "message": _("Something went wrong on our side. It has been logged.")})
