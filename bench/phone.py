"""Phone calls with the offline twins, in process: the platform's own share of a caller's wait.

    .venv/bin/python bench/phone.py [--turns N]

ConversationRelay: the caller simulator (apps/telephony/simulator.py) dials a throw-away client's twin number
through the real signed webhook, opens the real relay consumer with a signed handshake and token, and sends
`prompt` messages shaped like Twilio's; measured: prompt sent → first `text` token received (the built-in
engine, the database hop, the socket), p50 / p95.

Media Streams (100 simultaneous calls, per-frame handling, late frames, first audio) is NOT measured: the
Media Streams consumer is not built in this version (docs/telephony.md); those figures are null.
Last line: {"relay_first_token_p95_ms", "media_frame_p99_ms", "late_frames", "calls", "first_audio_p95_ms"}
(plus "relay_first_token_p50_ms").
"""

from __future__ import annotations

import argparse
import time

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from asgiref.sync import async_to_sync
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.telephony.models import PhoneNumber
from apps.telephony.services import number_twin_give
from apps.telephony.simulator import CallerSimulator

NUMBER = "+15550100999"
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=60)
    args = parser.parse_args()
    with bench_client("bench-phone") as client:
        with tenant_context(client):
            agent = Agent.objects.create(name="Bench", languages=["fr", "en"], default_language="fr",
                                         tools=list(TOOLS), texts={"fr": {"greeting": "Bonjour !"}})
        number_twin_give(client=client, e164=NUMBER, agent_id=agent.pk)
        try:
            firsts = async_to_sync(measure)(args.turns)
        finally:
            PhoneNumber.objects.filter(e164=NUMBER).delete()
    p50, p95 = percentile(firsts, 50), percentile(firsts, 95)
    print(f"ConversationRelay, {args.turns} prompts (built-in engine, offline twins, in process):")
    print(f"  prompt → first text token p50 {p50:.1f} ms, p95 {p95:.1f} ms (goal p95 ≤ 30 ms)")
    print("Media Streams: not measured — the Media Streams consumer is not built in this version")
    emit({"relay_first_token_p95_ms": round(p95, 1), "media_frame_p99_ms": None, "late_frames": None, "calls": 0,
          "first_audio_p95_ms": None, "relay_first_token_p50_ms": round(p50, 1)})


if __name__ == "__main__":
    main()
