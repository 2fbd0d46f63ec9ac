"""The widget's voice WebSocket: checks, speech in (synthetic espeak-ng audio), speech out, barge-in, bad input.

The consumer runs under async_to_sync from a sync test, so its database calls come back to this thread and see
the test's transaction (no committed rows to clean up).
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django_tenants.utils import tenant_context

from apps.clients.models import Plan
from apps.conversations.models import Conversation, Message
from apps.knowledge.services import documents_import
from apps.usage.models import UsageCounter
from apps.voice.audio import SAMPLE_RATE, resample
from apps.voice.tts import EspeakSpeaker
from apps.widget.models import WidgetRejection
from apps.widget.services import widget_origins_set
from apps.widget.voice import split_sentences
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example"
SILENCE = b"\0" * (SAMPLE_RATE * 2)  # one second


@pytest.fixture
def widget(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Opening hours", "text": "We are open from nine to six, Monday to Friday."}],
                         language="en")
    return cast


def speech(text: str, language: str = "en") -> bytes:
    spoken = async_to_sync(EspeakSpeaker().synthesize)(text, language=language)
    return resample(spoken.pcm, spoken.rate, SAMPLE_RATE)


def noise(seconds: float) -> bytes:
    rng = np.random.default_rng(7)
    return (rng.normal(0, 6000, int(SAMPLE_RATE * seconds))).astype("<i2").tobytes()


def socket(key: str, origin: str = SHOP) -> WebsocketCommunicator:
    from vocalia.asgi import application

    return WebsocketCommunicator(application, f"/ws/widget/v1/voice/?key={key}",
                                 headers=[(b"host", b"localhost"), (b"origin", origin.encode())])


async def receive(comm: WebsocketCommunicator, timeout: float = 10) -> dict | bytes:
    output = await comm.receive_output(timeout)
    if output["type"] == "websocket.close":
        return {"type": "closed", "code": output.get("code")}
    return output["bytes"] if output.get("bytes") is not None else json.loads(output["text"])


async def until(comm: WebsocketCommunicator, kind: str, seen: list | None = None, timeout: float = 20) -> dict:
    """Messages up to the first JSON message of `kind` (collected in `seen`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await receive(comm, max(0.1, deadline - loop.time()))
        if seen is not None:
            seen.append(message)
        if isinstance(message, dict) and message["type"] == kind:
            return message


async def send_audio(comm: WebsocketCommunicator, pcm: bytes, frame: int = 3200) -> None:
    for offset in range(0, len(pcm), frame):
        await comm.send_to(bytes_data=pcm[offset:offset + frame])


async def started(comm: WebsocketCommunicator, **start) -> dict:
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "start", **start})
    return await until(comm, "ready")


def test_it_hears_an_english_question_and_answers_aloud(widget):
    question = SILENCE[:9600] + speech("what are your opening hours") + SILENCE

    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en", visitor="v1")
        assert ready["recognition"] is True and ready["language"] == "en" and ready["token"]
        await send_audio(comm, question)
        seen: list = []
        transcript = await until(comm, "transcript", seen)
        done = await until(comm, "done", seen)
        spoken = await until(comm, "speech", seen)
        audio = await receive(comm)
        await comm.disconnect()
        return seen, transcript, done, spoken, audio, ready

    seen, transcript, done, spoken, audio, ready = async_to_sync(scenario)()
    assert {"type": "speech_started"} in seen
    assert transcript["text"] == "what are your opening hours"
    assert "nine to six" in done["text"]
    assert spoken["rate"] == 22050 and spoken["text"]
    assert isinstance(audio, bytes) and len(audio) > 2000 and np.abs(np.frombuffer(audio, "<i2")).max() > 1000
    with tenant_context(widget.client_a):
        conversation = Conversation.objects.get(pk=ready["conversation"])
        assert conversation.channel == Conversation.Channel.WIDGET_VOICE
        assert conversation.messages.filter(role=Message.Role.USER, text="what are your opening hours").exists()
        assert UsageCounter.objects.get(metric="voice_minutes").value == 1


def test_it_answers_typed_text_aloud_in_french_and_resumes_a_conversation(widget):
    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="fr")
        assert ready["recognition"] is False  # the offline recogniser is English only
        await comm.send_json_to({"type": "text", "text": "Bonjour"})
        spoken = await until(comm, "speech")
        audio = await receive(comm)
        await comm.send_to(bytes_data=SILENCE[:3200])
        error = await until(comm, "error")
        await comm.disconnect()
        again = socket(widget.pk_a)
        resumed = await started(again, token=ready["token"])
        await again.disconnect()
        return ready, spoken, audio, error, resumed

    ready, spoken, audio, error, resumed = async_to_sync(scenario)()
    assert spoken["text"] and isinstance(audio, bytes) and len(audio) > 2000
    assert error["code"] == "invalid_input" and "text" in error["message"]
    assert resumed["conversation"] == ready["conversation"] and resumed["language"] == "fr"


def test_the_visitor_can_speak_over_the_agent(widget):
    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        await until(comm, "speech")
        await send_audio(comm, noise(0.3))
        cleared = await until(comm, "clear")
        await comm.disconnect()
        return ready, cleared

    ready, cleared = async_to_sync(scenario)()
    assert cleared == {"type": "clear"}
    with tenant_context(widget.client_a):
        assert Message.objects.filter(conversation_id=ready["conversation"], role=Message.Role.EVENT,
                                      text__contains="interrupted").exists()


def test_it_refuses_an_origin_not_on_the_list(widget):
    async def scenario():
        comm = socket(widget.pk_a, origin="https://evil.example")
        connected, _ = await comm.connect()
        error = await receive(comm)
        closed = await receive(comm)
        return connected, error, closed

    connected, error, closed = async_to_sync(scenario)()
    assert error["code"] == "origin_not_allowed" and closed == {"type": "closed", "code": 4403}
    assert WidgetRejection.objects.filter(client=widget.client_a, reason="origin_not_allowed").exists()


def test_an_unknown_key_gets_no_socket(widget):
    async def scenario():
        connected, code = await socket("pk_nope").connect()
        return connected, code

    assert async_to_sync(scenario)() == (False, 4404)


def test_a_plan_without_voice_gets_no_socket(widget):
    text_only = Plan.objects.create(code="text", name="Text", features=["knowledge_base"], requests_per_minute=10)
    client = widget.client_a
    client.plan = text_only
    client.save()

    async def scenario():
        comm = socket(widget.pk_a)
        await comm.connect()
        return await receive(comm), await receive(comm)

    error, closed = async_to_sync(scenario)()
    assert error["code"] == "feature_not_in_plan" and closed["code"] == 4402


def test_bad_messages_get_clear_errors_and_ten_in_a_row_close_the_socket(widget):
    async def scenario():
        comm = socket(widget.pk_a)
        connected, _ = await comm.connect()
        errors = []
        await comm.send_to(bytes_data=b"\0\0")  # audio before start
        errors.append(await receive(comm))
        await comm.send_to(text_data="not json")
        errors.append(await receive(comm))
        await comm.send_json_to({"type": "start", "sample_rate": 3})
        errors.append(await receive(comm))
        await comm.send_json_to({"type": "start", "language": "en"})
        await until(comm, "ready")
        for bad in ({"type": "dance"}, {"type": "start"}):
            await comm.send_json_to(bad)
            errors.append(await receive(comm))
        await comm.send_to(bytes_data=b"\0" * 3)
        errors.append(await receive(comm))
        await comm.send_to(bytes_data=b"\0" * (70 * 1024))
        errors.append(await receive(comm))
        for _ in range(10):
            await comm.send_to(text_data="[]")
        closed = await until(comm, "closed")
        return errors, closed

    errors, closed = async_to_sync(scenario)()
    assert [error["type"] for error in errors] == ["error"] * 7
    assert all(error["code"] == "invalid_input" and error["message"] for error in errors)
    assert closed["code"] == 4400


def test_replies_are_spoken_sentence_by_sentence():
    assert split_sentences("Bonjour ! Nous ouvrons à 9 h. Et le") == (["Bonjour !", "Nous ouvrons à 9 h."], "Et le")
    assert split_sentences("مرحبا؟ نعم") == (["مرحبا؟"], "نعم")


def test_the_config_tells_the_widget_what_the_server_can_hear(widget):
    from django.test import Client as HttpClient

    response = HttpClient().get("/widget/v1/config", HTTP_X_VOCALIA_KEY=widget.pk_a, HTTP_ORIGIN=SHOP)
    features = response.json()["features"]
    assert features["voice"] is True and features["voice_recognition"] == ["en"]


def test_a_refused_origin_runs_nothing_sent_right_after_the_handshake(widget):
    """The key is public: a page elsewhere connects and sends a turn at once, before it can read the refusal,
    with a new conversation or one it opened on the real site (its token)."""

    async def own_token():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en")
        await comm.disconnect()
        return ready["token"]

    token = async_to_sync(own_token)()
    with tenant_context(widget.client_a):
        before = Conversation.objects.count(), Message.objects.count()

    async def attack(start):
        comm = socket(widget.pk_a, origin="https://evil.example")
        await comm.connect()
        await comm.send_json_to(start)
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        await comm.send_to(bytes_data=noise(0.5))
        outputs = [await receive(comm), await receive(comm)]
        nothing_more = await comm.receive_nothing(1.0)
        await comm.disconnect()  # raises what the consumer raised, if anything
        return outputs, nothing_more

    for start in ({"type": "start", "language": "en"}, {"type": "start", "token": token}):
        outputs, nothing_more = async_to_sync(attack)(start)
        assert outputs[0]["code"] == "origin_not_allowed" and outputs[1] == {"type": "closed", "code": 4403}
        assert nothing_more is True, start
    with tenant_context(widget.client_a):
        assert (Conversation.objects.count(), Message.objects.count()) == before


@pytest.mark.parametrize("frame", [{"text_data": json.dumps({"type": "text", "text": "x" * (3 * 1024 * 1024)})},
                                   {"bytes_data": b"\0" * (4 * 1024 * 1024)}], ids=["text", "binary"])
def test_a_frame_of_several_megabytes_closes_the_socket_with_1009(widget, frame):
    async def scenario():
        comm = socket(widget.pk_a)
        await started(comm, language="en")
        await comm.send_to(**frame)
        closed = await until(comm, "closed")
        again = socket(widget.pk_a)  # the process is unharmed
        ready = await started(again, language="en")
        await again.disconnect()
        return closed, ready

    closed, ready = async_to_sync(scenario)()
    assert closed == {"type": "closed", "code": 1009} and ready["token"]
    with tenant_context(widget.client_a):
        assert UsageCounter.objects.get(metric="voice_minutes").value == 2  # the closed session was counted


def test_malformed_control_messages_get_errors_and_the_session_goes_on(widget):
    bad = ["[" * 10_000, '{"type": "text", "text": 5}', '{"type": ["text"]}', '{"type": "text", "text": "\\ud800"}',
           '{"type": "text", "text": "x", "n": 1' + "0" * 5000 + "}", '{"type": "start", "token": {"a": 1}}',
           json.dumps({"type": "text", "text": "y" * 20_000}), '{"type": "text", "text": NaN}']

    async def scenario():
        comm = socket(widget.pk_a)
        await started(comm, language="en")
        errors = []
        for raw in bad:
            await comm.send_to(text_data=raw)
            errors.append(await until(comm, "error"))
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        done = await until(comm, "done")
        await comm.disconnect()
        return errors, done

    errors, done = async_to_sync(scenario)()
    assert [error["code"] for error in errors] == ["invalid_input"] * 6 + ["payload_too_large", "invalid_input"]
    assert "nine to six" in done["text"]


@pytest.mark.parametrize("text", ["book on 31/12/9999", "book\x00 an appointment on 99/99/2025 at 25:61",
                                  "book on 1/1/1"])
def test_a_turn_with_a_nul_or_an_absurd_date_gets_an_answer_or_an_error(widget, text):
    async def scenario():
        comm = socket(widget.pk_a)
        await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": text})
        seen: list = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while not any(isinstance(m, dict) and m["type"] in ("done", "error") for m in seen):
            seen.append(await receive(comm, max(0.1, deadline - loop.time())))
        await comm.send_json_to({"type": "interrupt"})
        cleared = await until(comm, "clear")
        await comm.disconnect()
        return seen, cleared

    seen, cleared = async_to_sync(scenario)()
    last = seen[-1]
    assert last["type"] in ("done", "error") and (last.get("text") or last.get("message"))
    assert cleared == {"type": "clear"}


def test_a_turn_that_fails_unexpectedly_sends_an_error_and_the_socket_stays_usable(widget, monkeypatch):
    from apps.agents import engine

    real = engine.turn_stream
    calls = []

    def broken_once(**kwargs):
        calls.append(kwargs["text"])
        if len(calls) == 1:
            raise OverflowError("date value out of range")  # what a tool's date arithmetic raised, injected
        return real(**kwargs)

    monkeypatch.setattr(engine, "turn_stream", broken_once)

    async def scenario():
        comm = socket(widget.pk_a)
        await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": "book on 31/12/9999"})
        error = await until(comm, "error")
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        done = await until(comm, "done")
        await comm.disconnect()
        return error, done

    error, done = async_to_sync(scenario)()
    assert error == {"type": "error", "code": "server_error",
                     "message": "Something went wrong on our side. It has been logged."}
    assert "nine to six" in done["text"]


def test_a_team_members_reply_is_spoken_on_the_voice_session_once_and_only_its_own(widget):
    """A member took over from the inbox: the widget polls the reply and asks the socket to speak it."""
    from asgiref.sync import sync_to_async

    from apps.conversations.services import conversation_reply_send

    def reply(conversation_id: int, text: str) -> int:
        with tenant_context(widget.client_a):
            return conversation_reply_send(client=widget.client_a, conversation_id=conversation_id, text=text,
                                           actor=widget.alice).pk

    def a_visitor_message(conversation_id: int) -> int:
        with tenant_context(widget.client_a):
            return Message.objects.filter(conversation_id=conversation_id, role=Message.Role.USER).values_list(
                "pk", flat=True).first()

    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        await until(comm, "done")
        await asyncio.sleep(0.5)  # the agent's last sentence is spoken after "done"
        while (await comm.receive_nothing(0.3)) is False:
            await receive(comm)
        member = await sync_to_async(reply)(ready["conversation"], "Hello, this is Alice. We open at nine.")
        await comm.send_json_to({"type": "say", "message": member})
        spoken = await until(comm, "speech")
        audio = await receive(comm)
        second = await until(comm, "speech")
        await comm.send_json_to({"type": "say", "message": member})  # asked again (a second poll): said once
        again = []
        while (await comm.receive_nothing(0.5)) is False:
            again.append(await receive(comm))
        visitor = await sync_to_async(a_visitor_message)(ready["conversation"])
        errors = []
        for bad in (visitor, 10**30, "12", True, None):
            await comm.send_json_to({"type": "say", "message": bad})
            errors.append(await until(comm, "error"))
        await comm.disconnect()
        other = socket(widget.pk_a)  # another conversation of the same client cannot speak Alice's reply
        await started(other, language="en")
        await other.send_json_to({"type": "say", "message": member})
        foreign = await until(other, "error")
        await other.disconnect()
        return spoken, audio, second, again, errors, foreign

    spoken, audio, second, again, errors, foreign = async_to_sync(scenario)()
    assert spoken["text"] == "Hello, this is Alice." and isinstance(audio, bytes) and len(audio) > 2000
    assert second["text"] == "We open at nine."
    assert not [m for m in again if isinstance(m, dict) and m["type"] == "speech"]
    assert errors[0]["code"] == "not_found"
    assert [error["code"] for error in errors[1:]] == ["invalid_input"] * 4
    assert foreign["code"] == "not_found"
