"""The dashboard's "Call your agent" page: a member's socket that plays Twilio's side of a call
(apps/telephony/simulator.py) against the client's own number — signed webhooks, signed handshake, the real
consumer of the agent's phone mode — and relays it both ways.

ConversationRelay (text):
    → {"type": "dial"}                ← {"type": "ringing", "mode": "relay", "number", "greeting"}
    → {"type": "say", "text", "lang"} ← {"type": "reply", "text", "language"?, "end"?}
    → {"type": "hangup"}              ← {"type": "ended"}
Media Streams (audio): the typed text is spoken by espeak-ng and sent as μ-law 20 ms frames, in real time, to the
real Media Streams consumer; the agent's frames come back to the browser as binary messages (μ-law 8 kHz bytes,
played with Web Audio), its marks are echoed as Twilio does once it has played them.
    → {"type": "dial"}                ← {"type": "ringing", "mode": "media", "number", "rate": 8000}
    → {"type": "say", "text", "lang"} ← {"type": "heard"} once spoken; binary μ-law frames of the reply
                                      ← {"type": "clear"} the agent stopped (barge-in): drop what is queued
                                      ← {"type": "ended", "said"} the agent ended the stream (hand-over, end)
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.utils.translation import gettext as _

from apps.clients.selectors import membership_for
from apps.core.channels_tenancy import CLOSE_FORBIDDEN, ClientConsumer
from apps.core.errors import InvalidInput
from apps.core.inputs import text_clean
from apps.telephony.selectors import client_numbers
from apps.telephony.simulator import CallerSimulator

LANG_TAGS = {"fr": "fr-FR", "en": "en-US", "es": "es-ES", "ar": "ar-SA", "ary": "ar-MA"}


def _number(client: Any, user: Any) -> str | None:
    """The client's first voice number, or None; '' for someone who is not a member."""
    if membership_for(user=user, client=client) is None:
        return ""
    numbers = [number for number in client_numbers(client=client) if number.voice]
    return numbers[0].e164 if numbers else None


class PhoneSimulatorConsumer(ClientConsumer):
    caller: CallerSimulator | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.number = await self.db(_number, self.client, user)
        if self.number == "":
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.caller = None
        self.pump: asyncio.Task[None] | None = None
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._pump_stop()
        if self.caller is not None:
            await self.caller.hangup()
            self.caller = None

    async def _pump_stop(self) -> None:
        pump, self.pump = getattr(self, "pump", None), None
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "dial":
            await self._dial()
        elif kind == "say":
            await self._say(text_clean(str(content.get("text") or ""))[:500].strip(), str(content.get("lang") or ""))
        elif kind == "hangup":
            await self.disconnect(1000)
            await self.send_json({"type": "ended"})
        else:
            raise InvalidInput(_("Unknown message type."))

    async def _dial(self) -> None:
        if not self.number:
            raise InvalidInput(_("This client has no phone number yet: the agency assigns them."))
        await self._pump_stop()
        if self.caller is not None:
            await self.caller.hangup()
        self.caller = CallerSimulator(to=self.number, from_number="+15550100000")
        twiml = await self.caller.dial()
        if twiml.socket_kind == "media" and await self.caller.media_open():
            self.pump = asyncio.create_task(self._pump(self.caller))
            await self.send_json({"type": "ringing", "mode": "media", "number": self.number, "rate": 8000})
            return
        if twiml.socket_kind != "relay" or not await self.caller.relay_open():
            await self.send_json({"type": "ended", "said": twiml.says})
            self.caller = None
            return
        await self.send_json({"type": "ringing", "mode": "relay", "number": self.number,
                              "greeting": twiml.attributes.get("welcomeGreeting", "")})

    async def _say(self, text: str, lang: str) -> None:
        if self.caller is None:
            raise InvalidInput(_("Call the agent first."))
        if not text:
            return
        if self.pump is not None:
            await self.caller.media_speak(text, language=lang if lang in LANG_TAGS else "fr", collect=False)
            await self.send_json({"type": "heard"})
            return
        await self.caller.send({"type": "prompt", "voicePrompt": text, "lang": LANG_TAGS.get(lang, "fr-FR"),
                                "last": True})
        messages = await self.caller.reply()
        reply: dict[str, Any] = {"type": "reply", "text": "".join(m.get("token", "") for m in messages
                                                                  if m["type"] == "text")}
        for message in messages:
            if message["type"] == "language":
                reply["language"] = message["ttsLanguage"]
            elif message["type"] == "end":
                reply["end"] = message.get("handoffData", "")
        await self.send_json(reply)

    async def _pump(self, caller: CallerSimulator) -> None:
        """The agent's side of the media socket, to the browser: its audio as it comes (paced by the consumer),
        clears, and the end of the stream (then Twilio's <Connect action>, as Twilio would ask it)."""
        sent, clears = 0, 0
        while True:
            heard = await caller.media_collect(0.05)
            if len(heard.audio) > sent:
                await self.send(bytes_data=bytes(heard.audio[sent:]))
                sent = len(heard.audio)
            if heard.clears > clears:
                clears = heard.clears
                await self.send_json({"type": "clear"})
            if heard.closed:
                twiml = await caller.relay_action()
                await self.send_json({"type": "ended", "said": twiml.says, "transfer": twiml.dial.get("number", "")})
                return
