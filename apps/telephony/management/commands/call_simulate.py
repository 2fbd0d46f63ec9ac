"""Phone a client's agent with no Twilio account: Twilio's side of ConversationRelay or Media Streams (whichever the
agent answers with), in process, through the real signed webhooks and the real consumers
(apps/telephony/simulator.py). In Media Streams mode each --say is spoken by espeak-ng and sent as μ-law 20 ms
frames in real time; the agent's audio is counted and, with --wav, saved (8 kHz WAV).

    manage.py call_simulate --client demo --say "Bonjour" --say "Je voudrais un rendez-vous"
    manage.py call_simulate --number +15550100001          # interactive: type what the caller says
    manage.py call_simulate --client atlas --say "السلام عليكم" --lang ar-MA
    manage.py call_simulate --number +15550100001 --say "where are you located" --lang en-US --wav /tmp/agent.wav
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.clients.models import Client
from apps.telephony.selectors import client_numbers
from apps.telephony.simulator import CallerSimulator


class Command(BaseCommand):
    help = "Call a client's agent through the real Twilio endpoints, with Twilio's side simulated."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--client", help="the client's slug (its first number is dialled)")
        parser.add_argument("--number", help="the number to dial (E.164)")
        parser.add_argument("--from", dest="caller", default="+33612345678", help="the caller's number")
        parser.add_argument("--say", action="append", default=[], help="what the caller says (repeatable)")
        parser.add_argument("--lang", default="fr-FR", help="the recogniser's language tag sent with each prompt")
        parser.add_argument("--digits", default="", help="keys pressed after the last sentence (dtmf)")
        parser.add_argument("--wav", default="", help="Media Streams: save the agent's audio to this WAV file")

    def handle(self, *args: Any, **options: Any) -> None:
        number = options["number"]
        if not number:
            client = Client.objects.filter(slug=options["client"] or "").first()
            if client is None:
                raise CommandError("give --number, or --client with the slug of a client that has a number")
            numbers = client_numbers(client=client)
            if not numbers:
                raise CommandError(f"{client.slug} has no phone number (the demo's: manage.py demo_data)")
            number = numbers[0].e164
        asyncio.run(self._call(number, options))

    async def _call(self, number: str, options: dict[str, Any]) -> None:
        host = next((h for h in settings.PLATFORM_HOSTS if h not in ("",)), "localhost")
        caller = CallerSimulator(to=number, from_number=options["caller"], host=host)
        twiml = await caller.dial()
        for text in twiml.says:
            self.stdout.write(f"agent (say) : {text}")
        if twiml.socket_kind == "media":
            await self._media(caller, options)
            return
        if twiml.socket_kind != "relay":
            self.stdout.write(f"(the call did not open a ConversationRelay socket: {' '.join(twiml.verbs)})")
            return
        if twiml.attributes.get("welcomeGreeting"):
            self.stdout.write(f"agent       : {twiml.attributes['welcomeGreeting']}")
        if not await caller.relay_open():
            raise CommandError("the socket was refused")
        sentences = list(options["say"])
        interactive = not sentences
        while True:
            if interactive:
                self.stdout.write("caller      > ", ending="")
                self.stdout.flush()
                line = sys.stdin.readline()
                if not line or not line.strip():
                    break
                sentences.append(line.strip())
            if not sentences:
                break
            text = sentences.pop(0)
            if not interactive:
                self.stdout.write(f"caller      : {text}")
            await caller.send({"type": "prompt", "voicePrompt": text, "lang": options["lang"], "last": True})
            ended = await self._show(caller)
            if ended or (not interactive and not sentences):
                break
        for digit in options["digits"]:
            await caller.send({"type": "dtmf", "digit": digit})
            await self._show(caller)
        await caller.hangup()
        self.stdout.write(self.style.SUCCESS(f"call {caller.call_sid} ended; see the dashboard's Calls page"))

    async def _show(self, caller: CallerSimulator) -> bool:
        messages = await caller.reply()
        for message in messages:
            if message["type"] == "language":
                self.stdout.write(f"(language → {message['ttsLanguage']})")
        self.stdout.write("agent       : " + "".join(m.get("token", "") for m in messages if m["type"] == "text"))
        for message in messages:
            if message["type"] == "end":
                self.stdout.write(f"(end: {message.get('handoffData', '')})")
        return any(m["type"] == "end" for m in messages)

    async def _media(self, caller: CallerSimulator, options: dict[str, Any]) -> None:
        from pathlib import Path

        from apps.voice.audio import MULAW_RATE, mulaw_decode, wav_write

        if not await caller.media_open():
            raise CommandError("the socket was refused")
        language = options["lang"].split("-")[0].lower()
        language = "ary" if options["lang"].lower() == "ar-ma" else language

        async def listen() -> None:
            before = caller.heard.frames
            heard = await caller.media_until_quiet(quiet_s=0.8, timeout=60)
            self.stdout.write(f"agent (audio): {(heard.frames - before) * 0.02:.1f} s of speech, "
                              f"{len(heard.marks)} marks so far")

        await listen()
        for text in options["say"]:
            if caller.heard.closed:
                break
            self.stdout.write(f"caller (espeak-ng): {text}")
            await caller.media_speak(text, language=language)
            await listen()
        for digit in options["digits"]:
            await caller.media_dtmf(digit)
            await listen()
        if options["wav"]:
            Path(options["wav"]).write_bytes(wav_write(mulaw_decode(bytes(caller.heard.audio)), MULAW_RATE))
            self.stdout.write(f"(the agent's audio: {options['wav']})")
        if caller.heard.closed:
            twiml = await caller.relay_action()
            self.stdout.write(f"(the agent ended the stream: {' '.join(twiml.verbs)} {twiml.dial.get('number', '')})")
            await caller.drop()
            await caller.status("completed", 30)
        else:
            await caller.hangup()
        self.stdout.write(self.style.SUCCESS(f"call {caller.call_sid} ended; see the dashboard's Calls page"))
