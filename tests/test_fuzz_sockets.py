"""Fuzzing the widget's voice socket with a fixed seed: random mutations of valid sessions.

Each session is a handshake (from an allowed origin, or a refused one) and a few messages built from
valid ones (start, text turns, audio frames) then mutated: fields of the wrong type, junk values,
NUL and lone surrogates, truncated or deeply nested JSON, audio of odd and oversize lengths, frames
over the server's limit. Every session must end without the consumer raising, with only well-formed
output, and either closed with a documented code or still answering; a refused session stores nothing.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
SEED = 20261201
SESSIONS = 36
MESSAGES = 8
SHOP = "https://shop.example"
EVENTS = {"ready", "speech_started", "transcript", "delta", "booking", "lead", "handover", "end", "done", "speech",
          "clear", "error"}
CLOSE_CODES = {1009, 4400, 4402, 4403, 4408, 4429}
PHRASES = ["what are your opening hours", "Bonjour", "book an appointment tomorrow at 10", "book on 31/12/9999",
           "my phone is +212 600 000 000", "I want to speak to a human", "مرحبا", "", " ", "x" * 5000,
           "book\x00 on 99/99/2025 at 25:61", "bye"]
JUNK: list[Any] = [None, True, 0, -1, 10**40, 1.5, "", "\x00", "a" * 2000, [], {}, {"a": [1, {"b": None}]}, "NaN",
                   "ready", 16000, 8000.0, "31/12/9999"]


def _valid(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["start", "text", "text", "stop", "interrupt"])
    if kind == "start":
        return {"type": "start", "language": rng.choice(["en", "fr", "es", "ar", "ary"]),
                "sample_rate": rng.choice([8000, 16000, 22050, 48000]), "visitor": f"v{rng.randrange(100)}"}
    if kind == "text":
        return {"type": "text", "text": rng.choice(PHRASES)}
    return {"type": kind}


def _mutated_json(rng: random.Random, message: dict[str, Any]) -> str:
    message = dict(message)
    how = rng.randrange(9)
    if how == 0 and len(message) > 1:
        message.pop(rng.choice([k for k in message if k != "type"]))
    elif how == 1:
        message[rng.choice(list(message) + ["token", "context", "page"])] = rng.choice(JUNK)
    elif how == 2:
        message["type"] = rng.choice(JUNK + ["dance", "START", "text "])
    raw = json.dumps(message, ensure_ascii=rng.random() < 0.5)
    if how == 3:
        return raw[:rng.randrange(len(raw))]
    if how == 4:
        depth = rng.choice([40, 2000, 5000])
        return "[" * depth + raw + "]" * depth
    if how == 5:
        return raw.replace('"text"', '"text\\ud800"', 1).replace('"en"', '"\\udfff"', 1)
    if how == 6:
        index = rng.randrange(len(raw))
        return raw[:index] + rng.choice(["\x00", "\\", '"', "}", "\ufeff", "\u202e"]) + raw[index:]
    if how == 7:
        return json.dumps([message]) if rng.random() < 0.5 else raw + raw
    return raw


def _audio(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 2, 3, 320, 3199, 3200, 9600, 64 * 1024, 64 * 1024 + 2, 70_001])
    return rng.randbytes(size) if rng.random() < 0.5 else b"\0" * size


def _frame(rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.04:  # over the limit: the socket closes with 1009
        oversize = settings.WEBSOCKET_MAX_MESSAGE_BYTES + rng.randrange(1, 3 * 1024 * 1024)
        return {"text_data": "x" * oversize} if rng.random() < 0.5 else {"bytes_data": b"\0" * oversize}
    if roll < 0.35:
        return {"bytes_data": _audio(rng)}
    if roll < 0.40:
        return {"bytes_data": json.dumps(_valid(rng)).encode()}  # JSON sent as a binary frame
    message = _valid(rng)
    return {"text_data": json.dumps(message) if rng.random() < 0.4 else _mutated_json(rng, message)}


def corpus(seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    sessions = []
    for number in range(SESSIONS):
        origin = SHOP if number % 6 else rng.choice(["https://evil.example", "", "null", "http://shop.example"])
        frames = [{"text_data": json.dumps(_valid(rng) | {"type": "start"})}] if rng.random() < 0.7 else []
        frames += [_frame(rng) for _ in range(MESSAGES - len(frames))]
        sessions.append({"origin": origin, "frames": frames})
    return sessions


def _socket(key: str, origin: str) -> WebsocketCommunicator:
    from vocalia.asgi import application

    headers = [(b"host", b"localhost")] + ([(b"origin", origin.encode())] if origin else [])
    return WebsocketCommunicator(application, f"/ws/widget/v1/voice/?key={key}", headers=headers)


async def _drain(comm: WebsocketCommunicator, outputs: list[dict[str, Any]], quiet: float = 0.6,
                 limit: float = 30) -> None:
    """Collect output until the socket has been quiet for `quiet` seconds (never cancels the consumer)."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + limit
    while asyncio.get_running_loop().time() < deadline and not await comm.receive_nothing(quiet):
        outputs.append(await comm.receive_output(1))


def _check_output(outputs: list[dict[str, Any]]) -> str:
    """Every output well formed; 'closed' or 'open'."""
    state = "open"
    for output in outputs:
        assert state == "open", f"output after the close: {output}"
        if output["type"] == "websocket.close":
            assert output.get("code") in CLOSE_CODES, output
            state = "closed"
        elif output.get("bytes") is not None:
            continue
        else:
            event = json.loads(output["text"])
            assert event["type"] in EVENTS, event
            if event["type"] == "error":
                assert event["code"] and event["message"], event
    return state


async def _session(key: str, case: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    comm = _socket(key, case["origin"])
    outputs: list[dict[str, Any]] = []
    connected, _code = await comm.connect()
    assert connected  # the voice socket accepts, then explains a refusal before closing
    for frame in case["frames"]:
        # send_input, not send_to: an empty frame is a frame too
        await comm.send_input({"type": "websocket.receive", **{k.split("_")[0]: v for k, v in frame.items()}})
        await _drain(comm, outputs, quiet=0.05)
    await _drain(comm, outputs)
    state = _check_output(outputs)
    if state == "open":  # still answering: a probe gets an answer
        await comm.send_json_to({"type": "interrupt"})
        probe: list[dict[str, Any]] = []
        await _drain(comm, probe)
        answers = [json.loads(o["text"])["type"] for o in probe if o.get("text")]
        assert answers and answers[-1] in ("clear", "error"), probe
        outputs += probe
    await comm.disconnect()  # raises whatever the consumer raised
    return state, outputs


def test_the_voice_socket_survives_a_fixed_seed_corpus_of_mutated_sessions(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)
    sessions = corpus()
    states = {"closed": 0, "open": 0}
    for case in sessions:
        refused = case["origin"] != SHOP
        with tenant_context(cast.client_a):
            before = Conversation.objects.count(), Message.objects.count()
        state, outputs = async_to_sync(_session)(cast.pk_a, case)
        states[state] += 1
        if refused:
            events = [json.loads(o["text"]) for o in outputs if o.get("text")]
            assert [e["code"] for e in events] == ["origin_not_allowed"], events
            assert outputs[-1] == {"type": "websocket.close", "code": 4403}
            with tenant_context(cast.client_a):
                assert (Conversation.objects.count(), Message.objects.count()) == before
    assert len(sessions) == SESSIONS and sum(len(case["frames"]) for case in sessions) == SESSIONS * MESSAGES
    assert states["closed"] > 0 and states["open"] > 0
