"""The engine: bad input, provider fallback, tool loop with a language model, barge-in."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from asgiref.sync import async_to_sync
from django_tenants.utils import tenant_context

from apps.agents.engine import Delta, ToolCalled, TurnDone, turn_run, turn_stream
from apps.conversations.models import Message
from apps.conversations.services import conversation_start
from apps.core.errors import InvalidInput, PayloadTooLarge
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
OPENAI_URL = "https://llm.test/v1/chat/completions"


def sse(*chunks):
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body)


def chunk(delta, finish=None):
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "test-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


@pytest.fixture
def llm_agent(cast):
    return make_agent(cast.client_a, provider="openai_compatible", api_key="sk-test-123",
                      base_url="https://llm.test/v1", model="test-model")


def count_messages(client, conversation):
    with tenant_context(client):
        return Message.objects.filter(conversation=conversation).count()


@pytest.mark.parametrize("text, error", [("", InvalidInput), ("   ", InvalidInput), ("x" * 20_000, PayloadTooLarge)])
def test_it_refuses_bad_turns_and_loses_nothing(cast, agent_a, start, text, error):
    conversation = start(cast.client_a, agent_a)
    turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Bonjour")
    before = count_messages(cast.client_a, conversation)
    with pytest.raises(error):
        turn_run(client=cast.client_a, conversation_id=conversation.pk, text=text)
    assert count_messages(cast.client_a, conversation) == before
    assert turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Bonjour")[-1].text


def test_it_refuses_an_unknown_language(cast, agent_a):
    with tenant_context(cast.client_a), pytest.raises(InvalidInput):
        conversation_start(agent=agent_a, channel="widget_text", language="klingon")


def test_it_refuses_an_unknown_conversation(cast, agent_a):
    with pytest.raises(InvalidInput):
        turn_run(client=cast.client_a, conversation_id=999_999, text="Bonjour")


@respx.mock
def test_it_uses_the_configured_model_and_its_tools(cast, llm_agent, start):
    route = respx.post(OPENAI_URL).mock(side_effect=[
        sse(chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {
            "name": "check_availability", "arguments": ""}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"days\": 3}"}}]}),
            chunk({}, "tool_calls")),
        sse(chunk({"role": "assistant", "content": "Je peux vous proposer "}), chunk({"content": "lundi à 9h."}),
            chunk({}, "stop")),
    ])
    conversation = start(cast.client_a, llm_agent)
    events = turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Un rendez-vous ?")
    assert [e.name for e in events if isinstance(e, ToolCalled)] == ["check_availability"]
    done = events[-1]
    assert isinstance(done, TurnDone) and done.provider == "openai_compatible" and not done.fallback
    assert done.text == "Je peux vous proposer lundi à 9h."
    first = json.loads(route.calls[0].request.content)
    assert first["model"] == "test-model" and first["stream"] is True
    assert {tool["function"]["name"] for tool in first["tools"]} >= {"book_appointment", "search_knowledge_base"}
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test-123"
    second = json.loads(route.calls[1].request.content)
    assert second["messages"][-1]["role"] == "tool" and "slots" in second["messages"][-1]["content"]


@pytest.mark.parametrize("failure", [
    httpx.Response(500, json={"error": {"message": "upstream exploded"}}),
    httpx.Response(401, json={"error": {"message": "bad key"}}),
    httpx.ReadTimeout("slow"),
    httpx.Response(200, headers={"content-type": "text/event-stream"}, text="data: {not json}\n\n"),
])
@respx.mock
def test_it_falls_back_to_the_builtin_engine(cast, llm_agent, start, failure):
    if isinstance(failure, Exception):
        respx.post(OPENAI_URL).mock(side_effect=failure)
    else:
        respx.post(OPENAI_URL).mock(return_value=failure)
    conversation = start(cast.client_a, llm_agent)
    done = turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Bonjour")[-1]
    assert done.provider == "builtin" and done.fallback and done.text
    with tenant_context(cast.client_a):
        event = Message.objects.get(conversation=conversation, role=Message.Role.EVENT)
    assert "openai_compatible failed" in event.text and "sk-test-123" not in event.text


@respx.mock
def test_it_keeps_an_interrupted_reply(cast, llm_agent, start):
    respx.post(OPENAI_URL).mock(return_value=sse(chunk({"role": "assistant", "content": "Bonjour, "}),
                                                 chunk({"content": "je vous écoute."}), chunk({}, "stop")))
    conversation = start(cast.client_a, llm_agent)

    async def barge_in():
        stream = turn_stream(client=cast.client_a, conversation_id=conversation.pk, text="Bonjour")
        async for event in stream:
            if isinstance(event, Delta):
                await stream.aclose()
                return event.text
        return ""

    said = async_to_sync(barge_in)()
    with tenant_context(cast.client_a):
        reply = Message.objects.filter(conversation=conversation, role=Message.Role.ASSISTANT).get()
    assert said == "Bonjour, "  # the visitor spoke over the agent after its first words
    assert reply.complete is False and reply.text == "Bonjour,"
