"""The HTTP language-model providers against mocked endpoints that answer like the real APIs.

Payloads copy the shapes OpenAI (chat.completion.chunk) and Anthropic (Messages streaming events) send, so the
parsers are tested on what they will meet in production. No database: these tests only talk to respx.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from apps.core.errors import ProviderError
from apps.integrations.llm.anthropic import AnthropicProvider
from apps.integrations.llm.base import Done, ProviderConfig, ProviderEvent, TextDelta, ToolCallRequest, ToolSpec
from apps.integrations.llm.openai_compatible import OpenAICompatibleProvider

API_KEY = "sk-test-Vocalia0123456789abcdefSECRET"
OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
SSE = {"content-type": "text/event-stream; charset=utf-8"}

WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather for a city.",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)
BOOK = ToolSpec(
    name="book_table",
    description="Book a table at the restaurant.",
    parameters={"type": "object", "properties": {"people": {"type": "integer"}, "time": {"type": "string"}}},
)
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "You are the receptionist of Chez Paul."},
    {"role": "system", "content": "Answer in one sentence."},
    {"role": "user", "content": "What is the weather in Paris, and can you book for 2 at 20:00?"},
    {"role": "assistant", "content": "Let me check.", "tool_calls": [
        {"id": "call_weather_1", "name": "get_weather", "arguments": {"location": "Paris"}},
        {"id": "call_book_1", "name": "book_table", "arguments": {"people": 2, "time": "20:00"}},
    ]},
    {"role": "tool", "tool_call_id": "call_weather_1", "name": "get_weather", "content": '{"temp_c": 18}'},
    {"role": "tool", "tool_call_id": "call_book_1", "name": "book_table", "content": '{"booked": true}'},
]


def config(**overrides: Any) -> ProviderConfig:
    return ProviderConfig(**{"model": "gpt-4o-mini", "api_key": API_KEY, "timeout_s": 5.0, **overrides})


async def collect(provider: Any, cfg: ProviderConfig, messages: list[dict[str, Any]] | None = None,
                  tools: list[ToolSpec] | None = None) -> list[ProviderEvent]:
    messages = messages if messages is not None else [{"role": "user", "content": "Hello"}]
    return [event async for event in provider.stream(config=cfg, messages=messages, tools=tools or [])]


async def failure(provider: Any, cfg: ProviderConfig) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(provider, cfg)
    assert API_KEY not in str(caught.value)
    return caught.value


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def sent_body(route: respx.Route) -> dict[str, Any]:
    return json.loads(route.calls.last.request.content)


# --- Payloads shaped like the real APIs ------------------------------------------------------------------------------


def openai_chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion.chunk", "created": 1741569952,
        "model": "gpt-4o-mini-2024-07-18", "service_tier": "default", "system_fingerprint": "fp_06737a9306",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], "usage": None,
    }


def openai_usage_chunk(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    chunk = openai_chunk({})
    chunk["choices"] = []
    chunk["usage"] = {
        "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    }
    return chunk


def openai_sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def tool_call_fragment(index: int, *, arguments: str, call_id: str | None = None,
                       name: str | None = None) -> dict[str, Any]:
    if call_id is None:
        return {"index": index, "function": {"arguments": arguments}}
    return {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


OPENAI_TEXT = openai_sse(
    openai_chunk({"role": "assistant", "content": "", "refusal": None}),
    openai_chunk({"content": "Bonjour"}),
    openai_chunk({"content": ", how can I"}),
    openai_chunk({"content": " help?"}),
    openai_chunk({}, "stop"),
    openai_usage_chunk(27, 9),
)
OPENAI_ONE_TOOL_CALL = openai_sse(
    openai_chunk({"role": "assistant", "content": None, "refusal": None, "tool_calls": [
        tool_call_fragment(0, call_id="call_DdmO9pD3xa9XTPNJ32zg2hcA", name="get_weather", arguments="")]}),
    openai_chunk({"tool_calls": [tool_call_fragment(0, arguments='{"loc')]}),
    openai_chunk({"tool_calls": [tool_call_fragment(0, arguments='ation": "Pa')]}),
    openai_chunk({"tool_calls": [tool_call_fragment(0, arguments='ris"}')]}),
    openai_chunk({}, "tool_calls"),
    openai_usage_chunk(85, 16),
)


def anthropic_event(payload: dict[str, Any]) -> str:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"


def anthropic_sse(*payloads: dict[str, Any]) -> bytes:
    return "".join(anthropic_event(payload) for payload in payloads).encode()


def anthropic_message_start(input_tokens: int) -> dict[str, Any]:
    return {"type": "message_start", "message": {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "content": [],
        "model": "claude-sonnet-4-20250514", "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 1, "service_tier": "standard"},
    }}


def text_delta(index: int, text: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}


def json_delta(index: int, partial_json: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index,
            "delta": {"type": "input_json_delta", "partial_json": partial_json}}


def message_end(stop_reason: str, output_tokens: int) -> list[dict[str, Any]]:
    return [{"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
             "usage": {"output_tokens": output_tokens}},
            {"type": "message_stop"}]


ANTHROPIC_TEXT_EVENTS: list[dict[str, Any]] = [
    anthropic_message_start(25),
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    text_delta(0, "Bonjour"),
    text_delta(0, ", how can I help?"),
    {"type": "content_block_stop", "index": 0},
    *message_end("end_turn", 15),
]
ANTHROPIC_TEXT = anthropic_sse(*ANTHROPIC_TEXT_EVENTS)
ANTHROPIC_TOOL_USE = anthropic_sse(
    anthropic_message_start(472),
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    text_delta(0, "Let me check the weather."),
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}},
    json_delta(1, ""),
    json_delta(1, '{"location":'),
    json_delta(1, ' "Paris, Fr'),
    json_delta(1, 'ance"}'),
    {"type": "content_block_stop", "index": 1},
    *message_end("tool_use", 89),
)


# --- Both providers: the failures all map to ProviderError ---------------------------------------------------------


@dataclass(frozen=True)
class Api:
    provider: Any
    url: str
    ok_body: bytes
    truncated_body: bytes  # the connection drops before the end of the turn
    malformed_body: bytes
    bad_arguments_body: bytes

    def error_body(self, message: str, kind: str) -> dict[str, Any]:
        if isinstance(self.provider, AnthropicProvider):
            return {"type": "error", "error": {"type": kind, "message": message},
                    "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}
        return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


OPENAI = Api(
    provider=OpenAICompatibleProvider(),
    url=OPENAI_URL,
    ok_body=OPENAI_TEXT,
    truncated_body=openai_sse(openai_chunk({"role": "assistant", "content": ""}), openai_chunk({"content": "Bon"}),
                              done=False),
    malformed_body=b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"con\n\n',
    bad_arguments_body=openai_sse(
        openai_chunk({"tool_calls": [tool_call_fragment(0, call_id="call_1", name="get_weather",
                                                        arguments='{"location": ')]}),
        openai_chunk({}, "tool_calls"),
    ),
)
ANTHROPIC = Api(
    provider=AnthropicProvider(),
    url=ANTHROPIC_URL,
    ok_body=ANTHROPIC_TEXT,
    truncated_body=anthropic_sse(*ANTHROPIC_TEXT_EVENTS[:4]),
    malformed_body=anthropic_sse(anthropic_message_start(3)) + b"event: content_block_start\ndata: {\"type\": \n\n",
    bad_arguments_body=anthropic_sse(
        anthropic_message_start(3),
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}},
        json_delta(0, '{"location": '),
        {"type": "content_block_stop", "index": 0},
        *message_end("tool_use", 5),
    ),
)
APIS = pytest.mark.parametrize("api", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])


class SlowStream(httpx.AsyncByteStream):
    """A body that trickles in: each piece arrives in time, but all of them together do not."""

    def __init__(self, pieces: list[bytes], delay_s: float) -> None:
        self.pieces = pieces
        self.delay_s = delay_s

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            await asyncio.sleep(self.delay_s)
            yield piece


@APIS
async def test_it_maps_401_to_a_permanent_error_with_the_api_message(api: Api, respx_mock: respx.Router) -> None:
    message = "Incorrect API key provided: sk-test-***CRET." if api is OPENAI else "invalid x-api-key"
    respx_mock.post(api.url).respond(401, json=api.error_body(message, "authentication_error"))

    error = await failure(api.provider, config())

    assert error.permanent is True
    assert "401" in str(error) and message in str(error)


@APIS
@pytest.mark.parametrize("status", [400, 403, 404])
async def test_it_maps_other_client_errors_to_permanent_errors(api: Api, status: int,
                                                               respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(status, json=api.error_body("The model `gpt-9` does not exist", "not_found"))

    error = await failure(api.provider, config())

    assert error.permanent is True
    assert "does not exist" in str(error)


@APIS
@pytest.mark.parametrize("status", [429, 500, 503, 529])
async def test_it_maps_rate_limits_and_server_errors_to_retryable_errors(api: Api, status: int,
                                                                        respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(status, json=api.error_body("Overloaded, try again", "overloaded_error"))

    error = await failure(api.provider, config())

    assert error.permanent is False
    assert str(status) in str(error) and "Overloaded" in str(error)


@APIS
async def test_it_maps_a_non_json_error_page_to_an_error(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(502, text="<html><body>502 Bad Gateway</body></html>")

    error = await failure(api.provider, config())

    assert error.permanent is False
    assert "502" in str(error)


@APIS
async def test_it_rejects_a_malformed_json_chunk(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(200, headers=SSE, content=api.malformed_body)

    error = await failure(api.provider, config())

    assert error.permanent is True
    assert "malformed JSON" in str(error)


@APIS
async def test_it_rejects_malformed_tool_call_arguments(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(200, headers=SSE, content=api.bad_arguments_body)

    error = await failure(api.provider, config())

    assert error.permanent is True
    assert "get_weather" in str(error)


@APIS
async def test_it_reports_a_stream_that_ends_early(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(200, headers=SSE, content=api.truncated_body)

    error = await failure(api.provider, config())

    assert error.permanent is False
    assert str(error) == "stream ended early"


@APIS
async def test_it_reports_an_empty_answer_as_ended_early(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(200, headers=SSE, content=b"")

    error = await failure(api.provider, config())

    assert str(error) == "stream ended early"


@APIS
@pytest.mark.parametrize("timeout", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_it_maps_an_http_timeout_to_a_retryable_error(api: Api, timeout: type[Exception],
                                                            respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).mock(side_effect=timeout)

    error = await failure(api.provider, config())

    assert error.permanent is False
    assert "timed out" in str(error)


@APIS
async def test_it_maps_a_connection_failure_to_a_retryable_error(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    error = await failure(api.provider, config())

    assert error.permanent is False
    assert "Connection refused" in str(error)


@APIS
async def test_it_enforces_the_overall_deadline_on_a_slow_stream(api: Api, respx_mock: respx.Router) -> None:
    pieces = [line + b"\n" for line in api.ok_body.split(b"\n")]
    respx_mock.post(api.url).mock(side_effect=lambda request: httpx.Response(
        200, headers=SSE, stream=SlowStream(pieces, delay_s=0.05)))
    events: list[ProviderEvent] = []

    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ProviderError) as caught:
        async for event in api.provider.stream(config=config(timeout_s=0.3), messages=[], tools=[]):
            events.append(event)

    assert caught.value.permanent is False
    assert "0.3 s" in str(caught.value)
    assert loop.time() - started < 1.0
    assert not any(isinstance(event, Done) for event in events)


@APIS
async def test_it_does_not_count_the_consumers_own_time_against_the_deadline(api: Api,
                                                                            respx_mock: respx.Router) -> None:
    """A prompt server with a slow consumer (speech synthesis between deltas) is not a timeout."""
    pieces = [line + b"\n" for line in api.ok_body.split(b"\n")]
    respx_mock.post(api.url).mock(side_effect=lambda request: httpx.Response(
        200, headers=SSE, stream=SlowStream(pieces, delay_s=0.005)))
    events: list[ProviderEvent] = []

    async for event in api.provider.stream(config=config(timeout_s=0.3), messages=[], tools=[]):
        events.append(event)
        await asyncio.sleep(0.15)

    assert isinstance(events[-1], Done)
    assert text_of(events) == "Bonjour, how can I help?"


@APIS
async def test_it_never_puts_the_api_key_in_an_error_message(api: Api, respx_mock: respx.Router) -> None:
    """Even when a misbehaving server or proxy echoes the key back in its error text."""
    echoing = f"Invalid key {API_KEY}; header was Bearer {API_KEY}"
    answers: list[Any] = [
        httpx.Response(401, json=api.error_body(echoing, "authentication_error")),
        httpx.Response(500, text=echoing),
        httpx.ConnectError(echoing),
        httpx.Response(200, headers=SSE, content=b"data: " + json.dumps(
            {"type": "error", "error": {"type": "api_error", "message": echoing}}).encode() + b"\n\n"),
    ]
    respx_mock.post(api.url).mock(side_effect=answers)

    for _ in answers:
        error = await failure(api.provider, config())  # failure() asserts the key is absent
        assert "[redacted]" in str(error)


@APIS
async def test_it_closes_quietly_when_the_consumer_stops_early(api: Api, respx_mock: respx.Router) -> None:
    respx_mock.post(api.url).respond(200, headers=SSE, content=api.ok_body)

    stream = api.provider.stream(config=config(), messages=[{"role": "user", "content": "Hi"}], tools=[])
    first = await anext(aiter(stream))
    await stream.aclose()

    assert first == TextDelta("Bonjour")


@APIS
async def test_it_turns_an_unconvertible_message_into_a_permanent_error(api: Api, respx_mock: respx.Router) -> None:
    with pytest.raises(ProviderError) as caught:
        await collect(api.provider, config(), messages=[{"role": "tool", "content": "{}"}])  # no tool_call_id

    assert caught.value.permanent is True
    assert not respx_mock.calls


# --- OpenAI-compatible -------------------------------------------------------------------------------------------


async def test_it_streams_openai_text_and_reports_usage(respx_mock: respx.Router) -> None:
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=OPENAI_TEXT)

    events = await collect(OpenAICompatibleProvider(), config())

    assert events == [TextDelta("Bonjour"), TextDelta(", how can I"), TextDelta(" help?"),
                      Done("stop", {"input_tokens": 27, "output_tokens": 9})]


async def test_it_assembles_an_openai_tool_call_split_over_three_chunks(respx_mock: respx.Router) -> None:
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=OPENAI_ONE_TOOL_CALL)

    events = await collect(OpenAICompatibleProvider(), config(), tools=[WEATHER])

    assert events == [
        ToolCallRequest(id="call_DdmO9pD3xa9XTPNJ32zg2hcA", name="get_weather", arguments={"location": "Paris"}),
        Done("tool_calls", {"input_tokens": 85, "output_tokens": 16}),
    ]


async def test_it_assembles_two_parallel_openai_tool_calls(respx_mock: respx.Router) -> None:
    body = openai_sse(
        openai_chunk({"role": "assistant", "content": None, "tool_calls": [
            tool_call_fragment(0, call_id="call_8kXbVkYlL9yH2mQpZ1xR4aTc", name="get_weather", arguments="")]}),
        openai_chunk({"tool_calls": [tool_call_fragment(0, arguments='{"location":')]}),
        openai_chunk({"tool_calls": [tool_call_fragment(0, arguments=' "Paris"}')]}),
        openai_chunk({"tool_calls": [
            tool_call_fragment(1, call_id="call_3nQwErTy7uIoPaSdFgHjKlZx", name="book_table", arguments="")]}),
        openai_chunk({"tool_calls": [tool_call_fragment(1, arguments='{"people": 2,')]}),
        openai_chunk({"tool_calls": [tool_call_fragment(1, arguments=' "time": "20:00"}')]}),
        openai_chunk({}, "tool_calls"),
        openai_usage_chunk(120, 48),
    )
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=body)

    events = await collect(OpenAICompatibleProvider(), config(), tools=[WEATHER, BOOK])

    assert events == [
        ToolCallRequest(id="call_8kXbVkYlL9yH2mQpZ1xR4aTc", name="get_weather", arguments={"location": "Paris"}),
        ToolCallRequest(id="call_3nQwErTy7uIoPaSdFgHjKlZx", name="book_table",
                        arguments={"people": 2, "time": "20:00"}),
        Done("tool_calls", {"input_tokens": 120, "output_tokens": 48}),
    ]


async def test_it_gives_empty_openai_arguments_as_an_empty_dict(respx_mock: respx.Router) -> None:
    body = openai_sse(
        openai_chunk({"tool_calls": [tool_call_fragment(0, call_id="call_1", name="hang_up", arguments="")]}),
        openai_chunk({}, "tool_calls"),
    )
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=body)

    events = await collect(OpenAICompatibleProvider(), config())

    assert events == [ToolCallRequest(id="call_1", name="hang_up", arguments={}), Done("tool_calls", {})]


async def test_it_sends_the_openai_request_body(respx_mock: respx.Router) -> None:
    route = respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=OPENAI_TEXT)

    await collect(OpenAICompatibleProvider(), config(temperature=0.2, max_tokens=321), CONVERSATION, [WEATHER, BOOK])

    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent_body(route) == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are the receptionist of Chez Paul."},
            {"role": "system", "content": "Answer in one sentence."},
            {"role": "user", "content": "What is the weather in Paris, and can you book for 2 at 20:00?"},
            {"role": "assistant", "content": "Let me check.", "tool_calls": [
                {"id": "call_weather_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'}},
                {"id": "call_book_1", "type": "function",
                 "function": {"name": "book_table", "arguments": '{"people": 2, "time": "20:00"}'}},
            ]},
            {"role": "tool", "tool_call_id": "call_weather_1", "content": '{"temp_c": 18}'},
            {"role": "tool", "tool_call_id": "call_book_1", "content": '{"booked": true}'},
        ],
        "temperature": 0.2,
        "max_tokens": 321,
        "stream": True,
        "stream_options": {"include_usage": True},
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
                                              "parameters": WEATHER.parameters}},
            {"type": "function", "function": {"name": "book_table", "description": "Book a table at the restaurant.",
                                              "parameters": BOOK.parameters}},
        ],
        "tool_choice": "auto",
    }


async def test_it_sends_no_tools_when_none_are_offered(respx_mock: respx.Router) -> None:
    route = respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=OPENAI_TEXT)

    await collect(OpenAICompatibleProvider(), config())

    assert "tools" not in sent_body(route) and "tool_choice" not in sent_body(route)


async def test_it_omits_authorization_and_honours_base_url_for_local_servers(respx_mock: respx.Router) -> None:
    """Ollama and vLLM take no key; a trailing slash on the base URL must not double up."""
    route = respx_mock.post("http://localhost:11434/v1/chat/completions").respond(
        200, headers=SSE, content=OPENAI_TEXT)

    events = await collect(OpenAICompatibleProvider(),
                           config(api_key="", base_url="http://localhost:11434/v1/", model="llama3.2"))

    assert text_of(events) == "Bonjour, how can I help?"
    assert "authorization" not in route.calls.last.request.headers
    assert sent_body(route)["model"] == "llama3.2"


async def test_it_finishes_at_done_when_the_server_sends_no_finish_reason(respx_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk({"content": "Hi"}))
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=body)

    events = await collect(OpenAICompatibleProvider(), config())

    assert events == [TextDelta("Hi"), Done("stop", {})]


async def test_it_reports_an_error_sent_inside_the_openai_stream(respx_mock: respx.Router) -> None:
    body = openai_sse(openai_chunk({"content": "Hi"}), done=False) + b'data: {"error": {"message": ' \
        b'"The server had an error while processing your request.", "type": "server_error"}}\n\n'
    respx_mock.post(OPENAI_URL).respond(200, headers=SSE, content=body)

    error = await failure(OpenAICompatibleProvider(), config())

    assert error.permanent is False
    assert "The server had an error" in str(error)


# --- Anthropic ---------------------------------------------------------------------------------------------------


async def test_it_streams_anthropic_text_and_reports_usage(respx_mock: respx.Router) -> None:
    respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=ANTHROPIC_TEXT)

    events = await collect(AnthropicProvider(), config(model="claude-sonnet-4-20250514"))

    assert events == [TextDelta("Bonjour"), TextDelta(", how can I help?"),
                      Done("stop", {"input_tokens": 25, "output_tokens": 15})]


async def test_it_assembles_an_anthropic_tool_use_block(respx_mock: respx.Router) -> None:
    respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=ANTHROPIC_TOOL_USE)

    events = await collect(AnthropicProvider(), config(), tools=[WEATHER])

    assert events == [
        TextDelta("Let me check the weather."),
        ToolCallRequest(id="toolu_01T1x1fJ34qAmk2tNTrN7Up6", name="get_weather",
                        arguments={"location": "Paris, France"}),
        Done("tool_calls", {"input_tokens": 472, "output_tokens": 89}),
    ]


async def test_it_gives_an_anthropic_tool_use_without_input_an_empty_dict(respx_mock: respx.Router) -> None:
    body = anthropic_sse(
        anthropic_message_start(10),
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "toolu_2", "name": "hang_up", "input": {}}},
        json_delta(0, ""),
        {"type": "content_block_stop", "index": 0},
        *message_end("tool_use", 4),
    )
    respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=body)

    events = await collect(AnthropicProvider(), config())

    assert events == [ToolCallRequest(id="toolu_2", name="hang_up", arguments={}),
                      Done("tool_calls", {"input_tokens": 10, "output_tokens": 4})]


@pytest.mark.parametrize(("stop_reason", "finish_reason"),
                         [("max_tokens", "length"), ("stop_sequence", "stop"), ("refusal", "refusal")])
async def test_it_maps_anthropic_stop_reasons(stop_reason: str, finish_reason: str,
                                              respx_mock: respx.Router) -> None:
    body = anthropic_sse(*ANTHROPIC_TEXT_EVENTS[:-2], *message_end(stop_reason, 800))
    respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=body)

    events = await collect(AnthropicProvider(), config())

    assert events[-1] == Done(finish_reason, {"input_tokens": 25, "output_tokens": 800})


async def test_it_sends_the_anthropic_request_body(respx_mock: respx.Router) -> None:
    route = respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=ANTHROPIC_TEXT)
    messages = [*CONVERSATION, {"role": "user", "content": "Thanks!"}, {"role": "user", "content": "Also, parking?"}]

    await collect(AnthropicProvider(), config(model="claude-sonnet-4-20250514", max_tokens=400), messages,
                  [WEATHER, BOOK])

    request = route.calls.last.request
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert sent_body(route) == {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 400,
        "temperature": 0.3,
        "stream": True,
        "system": "You are the receptionist of Chez Paul.\n\nAnswer in one sentence.",
        "messages": [
            {"role": "user", "content": "What is the weather in Paris, and can you book for 2 at 20:00?"},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "call_weather_1", "name": "get_weather", "input": {"location": "Paris"}},
                {"type": "tool_use", "id": "call_book_1", "name": "book_table",
                 "input": {"people": 2, "time": "20:00"}},
            ]},
            {"role": "user", "content": [  # both results, then the next user turn: one alternating user message
                {"type": "tool_result", "tool_use_id": "call_weather_1", "content": '{"temp_c": 18}'},
                {"type": "tool_result", "tool_use_id": "call_book_1", "content": '{"booked": true}'},
                {"type": "text", "text": "Thanks!"},
                {"type": "text", "text": "Also, parking?"},
            ]},
        ],
        "tools": [
            {"name": "get_weather", "description": "Current weather for a city.", "input_schema": WEATHER.parameters},
            {"name": "book_table", "description": "Book a table at the restaurant.", "input_schema": BOOK.parameters},
        ],
    }


async def test_it_omits_the_anthropic_system_prompt_and_tools_when_there_are_none(respx_mock: respx.Router) -> None:
    route = respx_mock.post("https://llm-proxy.example.com/anthropic/v1/messages").respond(
        200, headers=SSE, content=ANTHROPIC_TEXT)

    await collect(AnthropicProvider(), config(base_url="https://llm-proxy.example.com/anthropic/"),
                  [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": ""},
                   {"role": "user", "content": "Anyone?"}])

    body = sent_body(route)
    assert "system" not in body and "tools" not in body
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello"},
                                                             {"type": "text", "text": "Anyone?"}]}]


@pytest.mark.parametrize(("kind", "permanent"), [("overloaded_error", False), ("invalid_request_error", True)])
async def test_it_raises_on_an_anthropic_error_event(kind: str, permanent: bool, respx_mock: respx.Router) -> None:
    body = anthropic_sse(*ANTHROPIC_TEXT_EVENTS[:4],
                         {"type": "error", "error": {"type": kind, "message": "Overloaded"}})
    respx_mock.post(ANTHROPIC_URL).respond(200, headers=SSE, content=body)

    error = await failure(AnthropicProvider(), config())

    assert error.permanent is permanent
    assert "Overloaded" in str(error)



def test_anthropic_gets_a_user_turn_first_when_the_widget_greeted():
    """The widget keeps its greeting as the conversation's first (assistant) message; the Messages API refuses an
    assistant turn first, so the greeting goes to the system prompt."""
    from apps.integrations.llm.anthropic import convert_messages

    system, turns = convert_messages([{"role": "system", "content": "Be brief."},
                                      {"role": "assistant", "content": "Bonjour, bienvenue chez Alpha !"},
                                      {"role": "user", "content": "Vos horaires ?"},
                                      {"role": "assistant", "content": "9h-18h."}])
    assert "Bonjour, bienvenue chez Alpha !" in system and system.startswith("Be brief.")
    assert [turn["role"] for turn in turns] == ["user", "assistant"]
