"""The widget's voice pipeline with the offline twins: how long a visitor waits for the agent's voice.

    .venv/bin/python bench/voice.py [--turns N]

Drives the real voice consumer in process (channels' WebsocketCommunicator, no network) against the `make run`
database, with a throw-away client: spoken English questions (espeak-ng, 16 kHz) go in as PCM16 frames faster
than real time, so the figures are the server's own work after the end-pointer has decided the visitor stopped
(it waits 700 ms of silence first, by design). Typed turns measure the engine and the voice without recognition.
Last line: {"heard_p50_ms", "first_audio_p50_ms", "first_audio_p99_ms", "text_first_audio_p50_ms", "stt_rtf",
"stt_exact"} (the share of questions heard word for word).
"""

from __future__ import annotations

import argparse
import json
import time

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.integrations.tts.espeak import EspeakSpeaker
from apps.knowledge.services import documents_import
from apps.voice.audio import SAMPLE_RATE, resample
from apps.widget.services import widget_origins_set
from vocalia.asgi import application

ORIGIN = "https://bench.example"
QUESTIONS = ["what are your opening hours", "where are you located", "do you have parking",
             "how much does it cost", "can i pay by card", "do you deliver", "i want to speak to a human"]
SILENCE = b"\0" * SAMPLE_RATE  # 0.5 s


async def spoken(text: str) -> bytes:
    speech = await EspeakSpeaker().synthesize(text, language="en")
    return SILENCE + resample(speech.pcm, speech.rate, SAMPLE_RATE) + SILENCE * 2


async def until(comm: WebsocketCommunicator, kind: str) -> dict:
    while True:
        output = await comm.receive_output(30)
        if output.get("text") and json.loads(output["text"])["type"] == kind:
            return json.loads(output["text"])


async def hush(comm: WebsocketCommunicator) -> None:
    """Stop the agent (as a visitor's barge-in would) and skip what it had already sent."""
    await comm.send_json_to({"type": "interrupt"})
    await until(comm, "clear")


async def measure(key: str, turns: int) -> dict[str, list[float]]:
    comm = WebsocketCommunicator(application, f"/ws/widget/v1/voice/?key={key}",
                                 headers=[(b"host", b"localhost"), (b"origin", ORIGIN.encode())])
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "start", "language": "en"})
    await until(comm, "ready")
    audio = {text: await spoken(text) for text in QUESTIONS}
    figures: dict[str, list[float]] = {"heard": [], "first_audio": [], "text_first_audio": [], "rtf": [],
                                       "exact": []}
    for number in range(turns):
        text = QUESTIONS[number % len(QUESTIONS)]
        pcm = audio[text]
        for offset in range(0, len(pcm), 3200):
            await comm.send_to(bytes_data=pcm[offset:offset + 3200])
        sent = time.perf_counter()
        transcript = await until(comm, "transcript")
        heard = time.perf_counter()
        await until(comm, "speech")
        await comm.receive_output(30)  # the first audio frame
        figures["heard"].append((heard - sent) * 1000)
        figures["first_audio"].append((time.perf_counter() - sent) * 1000)
        figures["rtf"].append((heard - sent) / (len(pcm) / 2 / SAMPLE_RATE))
        figures["exact"].append(1.0 if transcript["text"] == text else 0.0)
        await hush(comm)
        started = time.perf_counter()
        await comm.send_json_to({"type": "text", "text": text})
        await until(comm, "speech")
        await comm.receive_output(30)
        figures["text_first_audio"].append((time.perf_counter() - started) * 1000)
        await hush(comm)
    await comm.disconnect()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=20)
    args = parser.parse_args()
    settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE = 10**6  # the bench is one very talkative visitor
    with bench_client("bench-voice") as client:
        widget_origins_set(client=client, origins=[ORIGIN])
        with tenant_context(client):
            Agent.objects.create(name="Bench", languages=["en"], default_language="en", tools=list(TOOLS),
                                 texts={"en": {"greeting": "Hello!", "closing": "Goodbye"}})
            documents_import(rows=[
                {"title": "Opening hours", "text": "We are open Monday to Friday from nine to six."},
                {"title": "Access", "text": "We are located at 12 Main Street; parking is free behind the shop."},
                {"title": "Payment", "text": "You can pay by card or in cash; a cleaning costs 60 dollars."}],
                language="en")
        from apps.clients.selectors import client_publishable_key

        key = client_publishable_key(client=client).lookup
        figures = async_to_sync(measure)(key, args.turns)
    heard, first, typed = figures["heard"], figures["first_audio"], figures["text_first_audio"]
    rtf = sum(figures["rtf"]) / len(figures["rtf"])
    exact = sum(figures["exact"]) / len(figures["exact"])
    print(f"{args.turns} spoken questions (offline twins, in process, after the 700 ms end-of-speech wait):")
    print(f"  transcript after p50 {percentile(heard, 50):.0f} ms, p99 {percentile(heard, 99):.0f} ms "
          f"(recognition {rtf:.2f}× real time; {exact:.0%} heard word for word)")
    print(f"  first audio after p50 {percentile(first, 50):.0f} ms, p99 {percentile(first, 99):.0f} ms")
    print(f"  typed question → first audio p50 {percentile(typed, 50):.0f} ms, p99 {percentile(typed, 99):.0f} ms")
    emit({"heard_p50_ms": round(percentile(heard, 50), 1), "first_audio_p50_ms": round(percentile(first, 50), 1),
          "first_audio_p99_ms": round(percentile(first, 99), 1),
          "text_first_audio_p50_ms": round(percentile(typed, 50), 1), "stt_rtf": round(rtf, 3),
          "stt_exact": round(exact, 3)})


if __name__ == "__main__":
    main()
