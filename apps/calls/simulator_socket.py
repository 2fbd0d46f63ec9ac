"""The dashboard's "Call your agent" page: a member's socket that plays Twilio's side of a call
(apps/telephony/simulator.py) against the client's own number — signed webhooks, signed handshake, the real
consumer of the agent's phone mode — and relays it both ways.

ConversationRelay (text):
    → {"type": "dial"}                ← {"type": "ringing", "mode": "relay", "number", "greeting"}
    → {"type": "say", "text", "lang"} ← {"type": "reply", "text", "language"?, "end"?}
    → {"type": "hangup"}              ← {"type": "ended"}
                                      ← {"type": "transfer", "number", "said"} the agent handed the call over
    → {"type": "transfer_result", "status": "completed"|"busy"|"no-answer"}   how that person answers
                                      ← {"type": "ringing", …} back with the agent, or {"type": "ended"}
Media Streams (audio): the typed text is spoken by espeak-ng and sent as μ-law 20 ms frames, in real time, to the
real Media Streams consumer; the agent's frames come back to the browser as binary messages (μ-law 8 kHz bytes,
played with Web Audio), its marks are echoed as Twilio does once it has played them.
    → {"type": "dial"}                ← {"type": "ringing", "mode": "media", "number", "rate": 8000}
    → {"type": "say", "text", "lang"} ← {"type": "heard"} once spoken; binary μ-law frames of the reply
                                      ← {"type": "clear"} the agent stopped (barge-in): drop what is queued
                                      ← {"type": "ended", "said"} the agent ended the stream (hand-over, end)

And the other way round: while the page is open it listens on the channel group of the client's number, where the
telephony twin announces each call it places from that number (a callback the agent scheduled, a campaign's call,
a member's call: `apps/integrations/telephony/memory.py`):

                                      ← {"type": "incoming", "from", "to"}   "Your agent is calling you"
    → {"type": "answer"}              ← {"type": "ringing", "mode", …}   (the agent says why it calls)
    → {"type": "decline"}             ← {"type": "ended"}                 (Twilio's status `busy`: tried later)

Answering plays Twilio's side of the placed call through the real endpoints: the signed answer request
(AnsweredBy=human), its <Redirect> to the voice endpoint, then the socket and consumer of the agent's mode.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.utils.translation import gettext as _

from apps.clients.selectors import membership_for
from apps.core.channels_tenancy import CLOSE_FORBIDDEN, ClientConsumer
from apps.core.errors import InvalidInput
from apps.core.inputs import text_clean
from apps.integrations.telephony.memory import ring_group
from apps.telephony.selectors import client_numbers
from apps.telephony.simulator import CallerSimulator, Twiml

TRANSFER_RESULTS = ("completed", "busy", "no-answer")
LANG_TAGS = {"fr": "fr-FR", "en": "en-US", "es": "es-ES", "ar": "ar-SA", "ary": "ar-MA"}


def _number(client: Any, user: Any) -> str | None:
    """The client's first voice number, or None; '' for someone who is not a member."""
    if membership_for(user=user, client=client) is None:
        return ""
    numbers = [number for number in client_numbers(client=client) if number.voice]
    return numbers[0].e164 if numbers else None


class PhoneSimulatorConsumer(ClientConsumer):
    caller: CallerSimulator | None = None
    incoming: dict[str, str] | None = None
    group: str = ""

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
        self.incoming = None
        self.transferring = False
        self.pump: asyncio.Task[None] | None = None
        if self.number and self.channel_layer is not None:
            self.group = ring_group(self.number)
            await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self._end()
        if self.group and self.channel_layer is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = ""

    async def _end(self) -> None:
        self.transferring = False
        pump, self.pump = getattr(self, "pump", None), None
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
        if self.caller is not None:
            await self.caller.hangup()
            self.caller = None

    async def simulator_ring(self, event: dict[str, Any]) -> None:
        """The twin placed a call from this client's number: ring the page (one call at a time)."""
        if self.caller is not None or self.incoming is not None:
            return  # busy on the page: Twilio's no-answer comes from the twin's side in real life; here it waits
        self.incoming = {key: str(event.get(key) or "") for key in ("call_id", "to", "from", "answer_url",
                                                                    "status_callback")}
        await self.send_json({"type": "incoming", "from": self.incoming["from"], "to": self.incoming["to"]})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "dial":
            await self._dial()
        elif kind == "say":
            await self._say(text_clean(str(content.get("text") or ""))[:500].strip(), str(content.get("lang") or ""))
        elif kind == "hangup":
            await self._end()
            await self.send_json({"type": "ended"})
        elif kind == "answer":
            await self._answer()
        elif kind == "decline":
            await self._decline()
        elif kind == "transfer_result":
            await self._transfer_result(str(content.get("status") or ""))
        else:
            raise InvalidInput(_("Unknown message type."))

    async def _connected(self, caller: CallerSimulator, twiml: Twiml) -> bool:
        """Open the socket of the mode the agent answered in; the page is told (in Media Streams, the pump
        relays the agent's audio), or told the call ended with what the agent said."""
        if twiml.socket_kind == "media" and await caller.media_open():
            self.caller = caller
            self.pump = asyncio.create_task(self._pump(caller))
            await self.send_json({"type": "ringing", "mode": "media", "number": self.number, "rate": 8000})
            return True
        if twiml.socket_kind == "relay" and await caller.relay_open():
            self.caller = caller
            await self.send_json({"type": "ringing", "mode": "relay", "number": self.number,
                                  "greeting": twiml.attributes.get("welcomeGreeting", "")})
            return True
        await self.send_json({"type": "ended", "said": twiml.says})
        return False

    async def _dial(self) -> None:
        if not self.number:
            raise InvalidInput(_("This client has no phone number yet: the agency assigns them."))
        await self._end()
        caller = CallerSimulator(to=self.number, from_number="+15550100000")
        await self._connected(caller, await caller.dial())

    def _placed(self) -> CallerSimulator:
        if self.incoming is None:
            raise InvalidInput(_("No call is ringing."))
        incoming, self.incoming = self.incoming, None
        return CallerSimulator.for_placed(call_id=incoming["call_id"], our_number=incoming["from"],
                                          person=incoming["to"], answer_url=incoming["answer_url"],
                                          status_callback=incoming["status_callback"])

    async def _answer(self) -> None:
        caller = self._placed()
        await self._end()
        if not await self._connected(caller, await caller.answer()):
            await caller.status("completed", 0)

    async def _decline(self) -> None:
        caller = self._placed()
        await caller.status("busy")
        await self.send_json({"type": "ended"})

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
        handoff = None
        for message in messages:
            if message["type"] == "language":
                reply["language"] = message["ttsLanguage"]
            elif message["type"] == "end":
                handoff = message.get("handoffData", "")
        await self.send_json(reply)
        if handoff is not None:
            await self._ended_by_agent(handoff)

    async def _ended_by_agent(self, handoff: str) -> None:
        """The agent sent `end`: as Twilio, close the socket and ask the <Connect action> with its HandoffData.
        A hand-over answers with a <Dial> to the person: the page then plays how that person answers."""
        caller = self.caller
        await caller.drop()
        twiml = await caller.relay_action(handoff=handoff)
        await self._after(caller, twiml)

    async def _after(self, caller: CallerSimulator, twiml: Twiml) -> None:
        """What Twilio does with the TwiML an action answered: put the caller through (the page then says how
        the person answers), give them back to the agent (no hand-over number, busy: a fresh socket), or hang up."""
        if twiml.dial.get("number") or twiml.dial.get("conference"):
            self.transferring = True
            await self.send_json({"type": "transfer", "number": twiml.dial.get("number", ""), "said": twiml.says})
            return
        if twiml.socket_kind == "relay" and await caller.relay_open():
            await self.send_json({"type": "ringing", "mode": "relay", "number": self.number,
                                  "greeting": twiml.attributes.get("welcomeGreeting", "")})
            return
        self.caller = None
        await caller.status("completed", 30)
        await self.send_json({"type": "ended", "said": twiml.says})

    async def _transfer_result(self, status: str) -> None:
        """How the person the call was handed to answered (Twilio's DialCallStatus): answered, the call goes on
        with them and ends here; busy or no answer, the caller is back with the agent, which says so."""
        if self.caller is None or not self.transferring:
            raise InvalidInput(_("No transfer is in progress."))
        if status not in TRANSFER_RESULTS:
            raise InvalidInput(_("Unknown transfer result."))
        self.transferring = False
        await self._after(self.caller, await self.caller.dial_result(status))

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
