"""A caller simulator: Twilio's side of a call, played against our real endpoints and consumers.

Webhooks are posted form-encoded with X-Twilio-Signature computed the Twilio way (twilio's RequestValidator
over the public URL and the sorted parameters, with the number's account token — the offline twin's for
twin numbers); the ConversationRelay socket is opened with a signed wss:// handshake, then `setup`, `prompt`,
`interrupt`, `dtmf` are sent exactly as Twilio shapes them. In process: django's AsyncClient and channels'
WebsocketCommunicator (tests, `manage.py call_simulate`, the dashboard's "Call your agent" page).

    caller = CallerSimulator(to="+15550100001")
    twiml = await caller.dial()                # POST /telephony/twilio/voice → parsed TwiML
    await caller.relay_open()                  # handshake + setup with the <Parameter name="token">
    reply = await caller.say("Bonjour")        # prompt → the streamed text tokens, joined
    await caller.hangup()                      # socket closed, status callback `completed`

Media Streams (an agent in `media` mode): the same dial, then

    await caller.media_open()                  # handshake + connected + start {customParameters: {token}}
    heard = await caller.media_say("Hello, what are your opening hours?", language="en")
                                               # espeak-ng → μ-law 20 ms frames, paced; the agent's frames back
    heard.audio, heard.marks                   # its μ-law audio and the marks we echoed (as Twilio does once played)

A call the agent places (apps/outbound) is answered the other way round: `CallerSimulator.for_placed(...)` is the
person called, `answer(answer_url)` posts Twilio's answer request (AnsweredBy=human) and follows its <Redirect> to
the voice endpoint, as Twilio does; then `relay_open()` and `say()` as above.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from twilio.request_validator import RequestValidator

from apps.integrations.registry import TWINS, provider_class
from apps.telephony.webhooks import public_url, public_ws_url
from apps.voice.audio import MULAW_FRAME, MULAW_RATE, mulaw_encode, resample

ACCOUNT_SID = "AC" + "0" * 32


@dataclass
class Twiml:
    xml: str
    verbs: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    socket_url: str = ""
    socket_kind: str = ""  # relay | media
    parameters: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # of <ConversationRelay> / <Stream> / <Gather>
    languages: list[dict[str, str]] = field(default_factory=list)
    dial: dict[str, Any] = field(default_factory=dict)
    hangs_up: bool = False
    redirect: str = ""


def twiml_parse(xml: str) -> Twiml:
    root = ET.fromstring(xml)
    parsed = Twiml(xml=xml)
    for element in root.iter():
        tag = element.tag
        parsed.verbs.append(tag)
        if tag == "Say" and element.text:
            parsed.says.append(element.text)
        elif tag in ("ConversationRelay", "Stream"):
            parsed.socket_kind = "relay" if tag == "ConversationRelay" else "media"
            parsed.socket_url = element.get("url", "")
            parsed.attributes = dict(element.attrib)
        elif tag == "Gather":
            parsed.attributes = dict(element.attrib)
        elif tag == "Language":
            parsed.languages.append(dict(element.attrib))
        elif tag == "Parameter":
            parsed.parameters[element.get("name", "")] = element.get("value", "")
        elif tag == "Dial":
            parsed.dial = dict(element.attrib)
        elif tag in ("Number", "Conference"):
            parsed.dial[tag.lower()] = (element.text or "").strip()
        elif tag == "Hangup":
            parsed.hangs_up = True
        elif tag == "Redirect":
            parsed.redirect = (element.text or "").strip()
    return parsed


@dataclass
class Heard:
    """What the simulated caller received from the agent on a Media Streams socket."""

    audio: bytearray = field(default_factory=bytearray)  # μ-law 8 kHz
    frames: int = 0
    marks: list[str] = field(default_factory=list)
    clears: int = 0
    arrivals: list[float] = field(default_factory=list)  # perf_counter of each media frame
    closed: bool = False


def _local(url: str) -> str:
    """A public URL we gave Twilio, as the path (and query) our test client posts to."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


class CallerSimulator:
    def __init__(self, *, to: str, from_number: str = "+33612345678", token: str | None = None,
                 call_sid: str | None = None, host: str = "testserver") -> None:
        self.to, self.from_number = to, from_number
        self.token = token if token is not None else provider_class("telephony", TWINS["telephony"])().auth_token
        self.call_sid = call_sid or new_call_sid()
        self.http = AsyncClient(HTTP_HOST=host)
        self.host = host
        self.socket: WebsocketCommunicator | None = None
        self.twiml: Twiml | None = None
        self.received: list[dict[str, Any]] = []
        self.direction = "inbound"
        self.answer_url = ""
        self.status_path = "/telephony/twilio/status"

    @classmethod
    def for_placed(cls, *, call_id: str, our_number: str, person: str, answer_url: str = "",
                   status_callback: str = "", host: str = "testserver") -> CallerSimulator:
        """The person a call we placed rings: Twilio's requests then carry From = our number, To = the person."""
        caller = cls(to=person, from_number=our_number, call_sid=call_id, host=host)
        caller.direction = "outbound-api"
        caller.answer_url = answer_url
        if status_callback:
            caller.status_path = _local(status_callback)
        return caller

    # HTTP ---------------------------------------------------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(url, params)

    def params(self, **extra: str) -> dict[str, str]:
        return {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": self.call_sid,
                "From": self.from_number, "To": self.to, "Direction": self.direction, "CallerCountry": "FR",
                "ToCountry": "US", **extra}

    async def post(self, path: str, params: dict[str, str], *, signature: str | None = None) -> Any:
        signature = self.sign(public_url(path), params) if signature is None else signature
        return await self.http.post(path, params, headers={"X-Twilio-Signature": signature})

    async def dial(self) -> Twiml:
        response = await self.post("/telephony/twilio/voice", self.params(CallStatus="ringing"))
        self.twiml = twiml_parse(response.content.decode())
        return self.twiml

    async def status(self, status: str, duration: int | None = None) -> Any:
        extra = {"CallStatus": status, "Timestamp": "Tue, 01 Dec 2026 18:00:00 +0000",
                 "SequenceNumber": "0", "CallbackSource": "call-progress-events"}
        if duration is not None:
            extra["CallDuration"] = str(duration)
        return await self.post(self.status_path, self.params(**extra))

    async def answer(self, answer_url: str = "", answered_by: str = "human") -> Twiml:
        """A call we placed is answered: Twilio's answer request, then its <Redirect> followed (POST, same
        parameters) the way Twilio follows it."""
        params = self.params(CallStatus="in-progress", AnsweredBy=answered_by)
        response = await self.post(_local(answer_url or self.answer_url), params)
        self.twiml = twiml_parse(response.content.decode())
        for _hop in range(3):
            if not self.twiml.redirect:
                break
            response = await self.post(_local(self.twiml.redirect), self.params(CallStatus="in-progress"))
            self.twiml = twiml_parse(response.content.decode())
        return self.twiml

    async def action(self, path: str, **extra: str) -> Twiml:
        response = await self.post(path, self.params(CallStatus="in-progress", **extra))
        self.twiml = twiml_parse(response.content.decode())
        return self.twiml

    async def relay_action(self, handoff: str = "", error: str = "") -> Twiml:
        extra = {"SessionId": "VX" + "0" * 32, "SessionStatus": "ended" if not error else "failed",
                 "SessionDuration": "12"}
        if handoff:
            extra["HandoffData"] = handoff
        if error:
            extra["ErrorCode"], extra["ErrorMessage"] = error, "WebSocket closed abruptly"
        return await self.action(self.relay_action_path(), **extra)

    def relay_action_path(self) -> str:
        return "/telephony/twilio/relay/action"

    async def dial_result(self, status: str) -> Twiml:
        return await self.action("/telephony/twilio/dial/action", DialCallStatus=status,
                                 DialCallSid="CA" + "d" * 32, DialCallDuration="0" if status != "completed" else "30")

    # ConversationRelay --------------------------------------------------------------------------------------

    async def relay_open(self, *, signature: str | None = None, token: str | None = None,
                         call_sid: str | None = None) -> bool:
        from vocalia.asgi import application

        assert self.twiml is not None and self.twiml.socket_url, "the TwiML opened no socket"
        path = urlsplit(self.twiml.socket_url).path
        signature = self.sign(public_ws_url(path), {}) if signature is None else signature
        self.socket = WebsocketCommunicator(application, path, headers=[
            (b"host", self.host.encode()), (b"x-twilio-signature", signature.encode())])
        connected, _code = await self.socket.connect()
        if not connected:
            return False
        await self.send({"type": "setup", "sessionId": "VX" + uuid.uuid4().hex, "accountSid": ACCOUNT_SID,
                         "parentCallSid": "", "callSid": call_sid or self.call_sid, "from": self.from_number,
                         "to": self.to, "forwardedFrom": "", "callType": "PSTN", "callerName": "",
                         "direction": "inbound", "callStatus": "RINGING",
                         "customParameters": {"token": self.twiml.parameters.get("token", "")
                                              if token is None else token}})
        return True

    async def send(self, message: dict[str, Any]) -> None:
        assert self.socket is not None
        await self.socket.send_to(text_data=json.dumps(message))

    async def receive(self, timeout: float = 30) -> dict[str, Any]:
        assert self.socket is not None
        message = json.loads(await self.socket.receive_from(timeout))
        self.received.append(message)
        return message

    async def reply(self, timeout: float = 30) -> list[dict[str, Any]]:
        """Messages until a text token with last=true (or an end)."""
        messages = []
        while True:
            message = await self.receive(timeout)
            messages.append(message)
            if (message["type"] == "text" and message.get("last")) or message["type"] == "end":
                # an `end` right after the last token belongs to this turn (receive_nothing keeps the app alive)
                if message["type"] == "text" and not await self.socket.receive_nothing(0.3):  # type: ignore[union-attr]
                    messages.append(await self.receive(timeout))
                return messages

    async def say(self, text: str, lang: str = "fr-FR") -> str:
        await self.send({"type": "prompt", "voicePrompt": text, "lang": lang, "last": True})
        return "".join(m.get("token", "") for m in await self.reply() if m["type"] == "text")

    async def interrupt(self, heard: str, ms: int = 1200) -> None:
        await self.send({"type": "interrupt", "utteranceUntilInterrupt": heard, "durationUntilInterruptMs": ms})

    async def dtmf(self, digit: str) -> str:
        await self.send({"type": "dtmf", "digit": digit})
        return "".join(m.get("token", "") for m in await self.reply() if m["type"] == "text")

    async def drop(self) -> None:
        """The socket closes (a hang-up, a network cut)."""
        if self.socket is not None:
            await self.socket.disconnect(timeout=10)  # the consumer finalises the call meanwhile
            self.socket = None

    async def hangup(self, duration: int = 30) -> None:
        await self.drop()
        await self.status("completed", duration)

    # Media Streams ------------------------------------------------------------------------------------------

    async def socket_open(self, *, signature: str | None = None) -> bool:
        from vocalia.asgi import application

        assert self.twiml is not None and self.twiml.socket_url, "the TwiML opened no socket"
        path = urlsplit(self.twiml.socket_url).path
        signature = self.sign(public_ws_url(path), {}) if signature is None else signature
        self.socket = WebsocketCommunicator(application, path, headers=[
            (b"host", self.host.encode()), (b"x-twilio-signature", signature.encode())])
        connected, _code = await self.socket.connect(timeout=10)  # many calls at once: the handshake may queue
        return bool(connected)

    async def media_open(self, *, signature: str | None = None, token: str | None = None,
                         call_sid: str | None = None) -> bool:
        """The signed handshake, then `connected` and `start` shaped like Twilio's (the token as a parameter)."""
        if not await self.socket_open(signature=signature):
            return False
        assert self.twiml is not None
        self.stream_sid = "MZ" + uuid.uuid4().hex
        self.sequence, self.chunk, self.media_ms = 0, 0, 0
        parameters = dict(self.twiml.parameters)
        if token is not None:
            parameters["token"] = token
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send({"event": "start", "sequenceNumber": self._sequence(), "streamSid": self.stream_sid,
                         "start": {"accountSid": ACCOUNT_SID, "streamSid": self.stream_sid,
                                   "callSid": call_sid or self.call_sid, "tracks": ["inbound"],
                                   "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                                   "customParameters": parameters}})
        self.heard = Heard()
        return True

    def _sequence(self) -> str:
        self.sequence += 1
        return str(self.sequence)

    async def media_frame(self, mulaw: bytes) -> None:
        self.chunk += 1
        await self.send({"event": "media", "sequenceNumber": self._sequence(), "streamSid": self.stream_sid,
                         "media": {"track": "inbound", "chunk": str(self.chunk), "timestamp": str(self.media_ms),
                                   "payload": base64.b64encode(mulaw).decode()}})
        self.media_ms += 20

    async def media_send(self, pcm: bytes, rate: int, *, paced: bool = True, collect: bool = True) -> None:
        """PCM16 at `rate` as Twilio sends it: μ-law 8 kHz, one 160-byte frame per 20 ms (paced in real time, as
        a phone line does, unless `paced` is False); what the agent sends meanwhile is collected (unless
        `collect` is False: another task reads the socket)."""
        coded = mulaw_encode(resample(pcm, rate, MULAW_RATE))
        coded += b"\xff" * (-len(coded) % MULAW_FRAME)
        started = time.perf_counter()
        for n, offset in enumerate(range(0, len(coded), MULAW_FRAME)):
            await self.media_frame(coded[offset:offset + MULAW_FRAME])
            if paced:
                wait = max(0.0, started + (n + 1) * 0.02 - time.perf_counter())
                await (self.media_collect(wait) if collect else asyncio.sleep(wait))

    async def media_silence(self, seconds: float, *, paced: bool = True, collect: bool = True) -> None:
        await self.media_send(b"\x00\x00" * int(MULAW_RATE * seconds), MULAW_RATE, paced=paced, collect=collect)

    async def media_speak(self, text: str, *, language: str = "en", paced: bool = True, collect: bool = True) -> None:
        """The caller says `text` (espeak-ng's voice), then is silent long enough for the end-pointer."""
        from apps.voice.providers import builtin_speaker

        speech = await builtin_speaker().synthesize(text, language=language)
        await self.media_silence(0.2, paced=paced, collect=collect)
        await self.media_send(speech.pcm, speech.rate, paced=paced, collect=collect)
        await self.media_silence(0.9, paced=paced, collect=collect)

    async def media_collect(self, seconds: float, *, echo_marks: bool = True) -> Heard:
        """Read what the agent sends for `seconds`: frames, marks (echoed back, as Twilio does once it has
        played the audio before them), clears."""
        assert self.socket is not None
        deadline = time.perf_counter() + seconds
        while True:
            left = deadline - time.perf_counter()
            if self.socket.output_queue.empty() and left <= 0:
                return self.heard
            try:
                output = await asyncio.wait_for(self.socket.output_queue.get(), max(left, 0.001))
            except TimeoutError:
                return self.heard
            if output["type"] == "websocket.close":
                self.heard.closed = True
                return self.heard
            message = json.loads(output.get("text") or "{}")
            self.received.append(message)
            if message.get("event") == "media":
                self.heard.audio += base64.b64decode(message["media"]["payload"])
                self.heard.frames += 1
                self.heard.arrivals.append(time.perf_counter())
            elif message.get("event") == "mark":
                name = message["mark"]["name"]
                self.heard.marks.append(name)
                if echo_marks:
                    await self.send({"event": "mark", "sequenceNumber": self._sequence(),
                                     "streamSid": self.stream_sid, "mark": {"name": name}})
            elif message.get("event") == "clear":
                self.heard.clears += 1

    async def media_until_quiet(self, *, quiet_s: float = 0.6, timeout: float = 30) -> Heard:
        """Collect until the agent has said something and then been quiet for `quiet_s` (or the socket closed)."""
        deadline = time.perf_counter() + timeout
        before = self.heard.frames
        while time.perf_counter() < deadline:
            frames = self.heard.frames
            await self.media_collect(quiet_s)
            if self.heard.closed or (self.heard.frames == frames and frames > before):
                break
        return self.heard

    async def media_dtmf(self, digit: str) -> None:
        await self.send({"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": self._sequence(),
                         "dtmf": {"track": "inbound_track", "digit": digit}})

    async def media_stop(self) -> None:
        await self.send({"event": "stop", "sequenceNumber": self._sequence(), "streamSid": self.stream_sid,
                         "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}})
