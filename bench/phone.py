"""Phone calls with the offline twins, in process: the platform's own share of a caller's wait.

    .venv/bin/python bench/phone.py [--turns N]

ConversationRelay: the caller simulator (apps/telephony/simulator.py) dials a throw-away client's twin number
through the real signed webhook, opens the real relay consumer with a signed handshake and token, and sends
`prompt` messages shaped like Twilio's; measured: prompt sent → first `text` token received (the built-in
engine, the database hop, the socket), p50 / p95.

Media Streams: `--calls` (100) simultaneous calls in this one process, each dialled through the signed webhook and
opened on the real Media Streams consumer with a signed handshake and token. Each hears the agent's greeting,
then — their starts spread over `--spread` seconds, as callers do not all speak at the same instant — says
"where are you located" (espeak-ng, μ-law 20 ms frames sent in real time, then silence), and hears the reply.
Measured inside the consumer (apps.telephony.media.PACING): the handling of each inbound `media` message (decode,
resample, end-pointer) p99; frames the players sent later than their 20 ms slot + 10 ms (late); end of speech (the
end-pointer's decision) → first frame of the reply p95 (recognition by the offline pocketsphinx twin, the
built-in engine, espeak-ng, all sharing this process and the machine's cores).
Last line: {"relay_first_token_p95_ms", "media_frame_p99_ms", "late_frames", "calls", "first_audio_p95_ms"}
(plus "relay_first_token_p50_ms").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from asgiref.sync import async_to_sync
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.calls.models import PhoneSettings
from apps.clients.models import Plan
from apps.telephony.media import PACING
from apps.telephony.models import PhoneNumber
from apps.telephony.services import number_twin_give
from apps.telephony.simulator import CallerSimulator

NUMBER = "+15550100999"
MEDIA_NUMBER = "+15550100998"
PROMPTS = ["Bonjour, quels sont vos horaires ?", "Où êtes-vous situés ?", "Est-ce que vous êtes ouverts le samedi ?",
           "Combien coûte une consultation ?", "Je voudrais un rendez-vous", "Merci beaucoup"]


async def measure(turns: int) -> list[float]:
    firsts: list[float] = []
    caller: CallerSimulator | None = None
    for n in range(turns):
        if caller is None or n % len(PROMPTS) == 0:
            if caller is not None:
                await caller.hangup()
            caller = CallerSimulator(to=NUMBER)
            await caller.dial()
            assert await caller.relay_open(), "the relay socket was refused"
        started = time.perf_counter()
        await caller.send({"type": "prompt", "voicePrompt": PROMPTS[n % len(PROMPTS)], "lang": "fr-FR",
                           "last": True})
        first = await caller.receive()
        while first["type"] != "text":
            first = await caller.receive()
        firsts.append((time.perf_counter() - started) * 1000)
        while not (first["type"] == "text" and first.get("last")):
            first = await caller.receive()
    if caller is not None:
        await caller.hangup()
    return firsts


async def media_call(n: int) -> CallerSimulator:
    caller = CallerSimulator(to=MEDIA_NUMBER, from_number=f"+3361000{n:04d}")
    await caller.dial()
    assert await caller.media_open(), "the media socket was refused"
    await caller.media_until_quiet(quiet_s=0.5, timeout=60)  # the greeting
    return caller


async def media_speak(caller: CallerSimulator, delay: float, *, speech: bytes, rate: int) -> int:
    await caller.media_collect(delay)
    await caller.media_silence(0.2)
    await caller.media_send(speech, rate)
    await caller.media_silence(0.9)
    before = caller.heard.frames
    await caller.media_until_quiet(quiet_s=0.8, timeout=120)
    await caller.drop()
    return caller.heard.frames - before


async def measure_media(calls: int, spread: float, budget: float) -> dict[str, Any]:
    from apps.voice.providers import builtin_speaker

    said = await builtin_speaker().synthesize("where are you located", language="en")
    callers = []
    for start in range(0, calls, 20):  # answered 20 at a time, as calls arrive
        callers += await asyncio.gather(*(media_call(n) for n in range(start, min(calls, start + 20))))
    from apps.integrations.resolver import builtin_recognizer

    # the offline recogniser's worker processes start (and load their model) before the measure, as in a server
    # that has already answered a call
    await asyncio.gather(*(builtin_recognizer().transcribe(said.pcm, rate=said.rate, language="en")
                           for _n in range(4)))
    PACING.reset(measure=True)
    speaking = [asyncio.create_task(media_speak(caller, spread * n / calls, speech=said.pcm, rate=said.rate))
                for n, caller in enumerate(callers)]
    done, pending = await asyncio.wait(speaking, timeout=budget)
    figures = {"frames": PACING.frames, "late": PACING.late, "worst_ms": PACING.worst_s * 1000,
               "handling_ms": [s * 1000 for s in PACING.handling],
               "first_audio_ms": [s * 1000 for s in PACING.first_audio]}
    for task in pending:  # not done within the budget: this process could not keep up with real time
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for caller in callers:
        await caller.drop()
        await caller.status("completed", 20)
    answered = [task.result() for task in done if task.exception() is None]
    return {**figures, "answered": sum(1 for frames in answered if frames > 0), "unfinished": len(pending)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--spread", type=float, default=5.0, help="seconds over which the callers start speaking")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds the calls get to speak and be answered (the rest is counted unfinished)")
    args = parser.parse_args()
    telephony = Plan.objects.get(code="telephony")
    cap = telephony.concurrent_calls
    Plan.objects.filter(pk=telephony.pk).update(concurrent_calls=max(cap, args.calls + 5))
    try:
        with bench_client("bench-phone") as client:
            with tenant_context(client):
                agent = Agent.objects.create(name="Bench", languages=["fr", "en"], default_language="fr",
                                             tools=list(TOOLS), texts={"fr": {"greeting": "Bonjour !"}})
                heard = Agent.objects.create(name="Bench media", languages=["en"], default_language="en",
                                             tools=list(TOOLS), texts={"en": {"greeting": "Hello, how can I help?"}})
                PhoneSettings.objects.create(agent=heard, mode="media", consent_notice=False)
            number_twin_give(client=client, e164=NUMBER, agent_id=agent.pk)
            number_twin_give(client=client, e164=MEDIA_NUMBER, agent_id=heard.pk)
            try:
                firsts = async_to_sync(measure)(args.turns)
                media = async_to_sync(measure_media)(args.calls, args.spread, args.budget)
            finally:
                PhoneNumber.objects.filter(e164__in=[NUMBER, MEDIA_NUMBER]).delete()
    finally:
        Plan.objects.filter(pk=telephony.pk).update(concurrent_calls=cap)
    p50, p95 = percentile(firsts, 50), percentile(firsts, 95)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"ConversationRelay, {args.turns} prompts (built-in engine, offline twins, in process):")
    print(f"  prompt → first text token p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p95 ≤ 30 ms)")
    handling, first_audio = media["handling_ms"], media["first_audio_ms"]
    frame_p99 = percentile(handling, 99) if handling else None
    audio_p95 = percentile(first_audio, 95) if first_audio else None
    print(f"Media Streams, {args.calls} simultaneous calls in one process, speech starts spread over {args.spread} s:")
    print(f"  {len(handling)} inbound frames handled: p50 {percentile(handling, 50):.3f} ms, p99 {frame_p99:.3f} ms"
          " (goal ≤ 2 ms)" if handling else "  no inbound frame handled")
    print(f"  {media['frames']} frames sent, late (> 20 ms slot + 10 ms) {media['late']} (goal 0), "
          f"worst lag {media['worst_ms']:.1f} ms")
    print(f"  {media['answered']}/{args.calls} calls answered, {media['unfinished']} unfinished within "
          f"{args.budget:.0f} s; end of speech → first audio p50 "
          f"{percentile(first_audio, 50) if first_audio else float('nan'):.0f} ms, p95 "
          f"{audio_p95 if audio_p95 is not None else float('nan'):.0f} ms")
    emit({"relay_first_token_p95_ms": round(p95, 1),
          "media_frame_p99_ms": round(frame_p99, 3) if frame_p99 is not None else None,
          "late_frames": media["late"], "calls": args.calls,
          "first_audio_p95_ms": round(audio_p95, 1) if audio_p95 is not None else None,
          "relay_first_token_p50_ms": round(p50, 1), "media_unfinished_calls": media["unfinished"],
          "media_frames_sent": media["frames"]})


if __name__ == "__main__":
    main()
