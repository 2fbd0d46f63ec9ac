"""Provider for every server that speaks OpenAI's Chat Completions API (OpenAI, xAI, Groq, Mistral, vLLM, Ollama).

Wire format: POST {base_url}/chat/completions with `"stream": true`; the answer is server-sent events, one
`data: {chat.completion.chunk}` line each, ended by `data: [DONE]`. Text arrives in choices[0].delta.content;
tool calls arrive in choices[0].delta.tool_calls as fragments keyed by "index" (id and name first, then the
arguments JSON as string pieces); choices[0].finish_reason closes the turn, and with stream_options.include_usage
one last chunk with empty choices carries usage.{prompt_tokens, completion_tokens}.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, field
from typing import Any

import httpx

from apps.agents.llm.base import Done, ProviderConfig, ProviderEvent, TextDelta, ToolCallRequest, ToolSpec
from apps.core.errors import ProviderError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_ERROR_TEXT = 300
STREAM_ENDED_EARLY = "stream ended early"
# The official SDKs retry these as well as 5xx: the same request may succeed later.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


# --- Transport shared by the HTTP providers (anthropic.py imports it) ----------------------------------------------


def redact(text: str, secret: str) -> str:
    """`text` shortened for an error message, with `secret` (an API key) blanked out wherever it occurs."""
    text = " ".join(str(text).split())
    if secret:
        text = text.replace(secret, "[redacted]")
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT] + "…"
    return text


def error_message_from_body(raw: bytes) -> str:
    """The human message in an error body: {"error": {"message"}} (OpenAI, Groq, xAI, Anthropic), {"error": "..."}
    (Ollama), {"message": ...} (vLLM, Mistral), {"detail": ...}; else the start of the raw text."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return _as_text(error["message"])
        if isinstance(error, str) and error:
            return error
        for key in ("message", "detail"):
            if body.get(key):
                return _as_text(body[key])
    return text


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def http_error(status: int, raw: bytes, *, api_key: str) -> ProviderError:
    """429, 408, 409 and 5xx may pass on a retry; any other 4xx (bad key, unknown model, bad request) will not."""
    detail = redact(error_message_from_body(raw), api_key) or httpx.codes.get_reason_phrase(status)
    transient = status in TRANSIENT_STATUSES or status >= 500
    return ProviderError(f"HTTP {status}: {detail}", permanent=not transient)


async def post_sse_lines(*, url: str, headers: dict[str, str], body: dict[str, Any],
                         config: ProviderConfig) -> AsyncIterator[str]:
    """POST `body` as JSON and yield the response's text lines as they arrive.

    Besides httpx's per-operation timeouts, the server gets config.timeout_s in all to send the whole answer: the
    time spent waiting for it is summed, while the consumer's own time between two lines (speech synthesis, say)
    is not counted, and the deadline never interrupts the consumer's code. Every failure comes out as ProviderError;
    the API key never appears in a message.
    """
    loop = asyncio.get_running_loop()
    budget = config.timeout_s
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(config.timeout_s)) as client, AsyncExitStack() as stack:
            started = loop.time()
            async with asyncio.timeout(budget):
                response = await stack.enter_async_context(
                    client.stream("POST", url, headers=headers, json=body)
                )
                if response.status_code >= 400:
                    raise http_error(response.status_code, await response.aread(), api_key=config.api_key)
            budget -= loop.time() - started
            lines = await stack.enter_async_context(aclosing(response.aiter_lines()))
            while True:
                started = loop.time()
                async with asyncio.timeout(max(budget, 0.0)):
                    try:
                        line = await anext(lines)
                    except StopAsyncIteration:
                        return
                budget -= loop.time() - started
                yield line
    except ProviderError:
        raise
    except TimeoutError:
        raise ProviderError(f"no complete answer within {config.timeout_s:g} s", permanent=False) from None
    except httpx.TimeoutException as exc:
        raise ProviderError(f"timed out ({type(exc).__name__})", permanent=False) from None
    except httpx.UnsupportedProtocol as exc:
        raise ProviderError(f"invalid base URL ({redact(str(exc), config.api_key)})", permanent=True) from None
    except httpx.TransportError as exc:
        raise ProviderError(f"connection failed ({type(exc).__name__}: {redact(str(exc), config.api_key)})",
                            permanent=False) from None
    except httpx.InvalidURL:
        raise ProviderError("invalid base URL", permanent=True) from None
    except Exception as exc:  # the protocol promises ProviderError only, whatever goes wrong underneath
        raise ProviderError(f"unexpected failure ({type(exc).__name__})", permanent=False) from exc


def sse_data(line: str) -> str | None:
    """The payload of a `data:` line; None for blank lines, comments (": keep-alive"), `event:` and `id:` lines."""
    if not line.startswith("data:"):
        return None
    return line[5:].removeprefix(" ")


def parse_json(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        raise ProviderError("malformed JSON in the event stream", permanent=True) from None
    if not isinstance(value, dict):
        raise ProviderError("unexpected event in the stream (not a JSON object)", permanent=True)
    return value


def parse_arguments(name: str, text: str) -> dict[str, Any]:
    """A tool call's arguments: the JSON object the model wrote; no text at all means no arguments."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise ProviderError(f"malformed arguments for tool {name!r}", permanent=True) from None
    if not isinstance(value, dict):
        raise ProviderError(f"arguments for tool {name!r} are not a JSON object", permanent=True)
    return value


def parameters_schema(tool: ToolSpec) -> dict[str, Any]:
    return tool.parameters or {"type": "object", "properties": {}}


# --- OpenAI Chat Completions ---------------------------------------------------------------------------------------


def convert_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The neutral messages of base.py in Chat Completions shape (ids and names kept, arguments as JSON text)."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role == "tool":
            converted.append({"role": "tool", "tool_call_id": message["tool_call_id"],
                              "content": message.get("content") or ""})
        elif role == "assistant" and message.get("tool_calls"):
            converted.append({
                "role": "assistant",
                # Some servers refuse an empty string next to tool calls; null is what OpenAI itself sends back.
                "content": message.get("content") or None,
                "tool_calls": [
                    {"id": call["id"], "type": "function",
                     "function": {"name": call["name"], "arguments": json.dumps(call.get("arguments") or {})}}
                    for call in message["tool_calls"]
                ],
            })
        else:
            converted.append({"role": role, "content": message.get("content") or ""})
    return converted


def request_body(config: ProviderConfig, messages: list[dict[str, Any]], tools: list[ToolSpec]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": config.model,
        "messages": convert_messages(messages),
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:
        body["tools"] = [
            {"type": "function",
             "function": {"name": tool.name, "description": tool.description, "parameters": parameters_schema(tool)}}
            for tool in tools
        ]
        body["tool_choice"] = "auto"
    return body


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAICompatibleProvider:
    name = "openai_compatible"

    async def stream(self, *, config: ProviderConfig, messages: list[dict[str, Any]],
                     tools: list[ToolSpec]) -> AsyncIterator[ProviderEvent]:
        try:
            body = request_body(config, messages, tools)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"cannot convert the conversation ({type(exc).__name__}: {exc})",
                                permanent=True) from None
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        url = (config.base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"

        calls: dict[int, _PartialCall] = {}
        finish_reason: str | None = None
        usage: dict[str, int] = {}
        async with aclosing(post_sse_lines(url=url, headers=headers, body=body, config=config)) as lines:
            async for line in lines:
                data = sse_data(line)
                if data is None or not data.strip():
                    continue
                if data.strip() == "[DONE]":
                    if finish_reason is None:
                        for request in _finished_calls(calls):
                            yield request
                    yield Done(_normalised(finish_reason, bool(calls)), usage)
                    return
                chunk = parse_json(data)
                if chunk.get("error"):  # OpenAI and vLLM report failures after a 200 this way
                    detail = redact(error_message_from_body(data.encode()), config.api_key)
                    raise ProviderError(f"error in the stream: {detail}", permanent=False)
                usage = _usage(chunk) or usage
                choices = chunk.get("choices") or []
                if not choices:
                    continue
                choice = choices[0]
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    yield TextDelta(delta["content"])
                for fragment in delta.get("tool_calls") or []:
                    _accumulate(calls, fragment)
                if choice.get("finish_reason") and finish_reason is None:
                    finish_reason = choice["finish_reason"]
                    for request in _finished_calls(calls):
                        yield request
        if finish_reason is not None:  # a server that stops after the finish reason without [DONE]
            yield Done(_normalised(finish_reason, bool(calls)), usage)
            return
        raise ProviderError(STREAM_ENDED_EARLY, permanent=False)


def _accumulate(calls: dict[int, _PartialCall], fragment: dict[str, Any]) -> None:
    index = fragment.get("index")
    if not isinstance(index, int):  # a few servers omit "index": a new id opens a call, else continue the last
        fresh = fragment.get("id") and all(call.id != fragment["id"] for call in calls.values())
        index = len(calls) if fresh or not calls else max(calls)
    call = calls.setdefault(index, _PartialCall())
    if fragment.get("id"):
        call.id = fragment["id"]
    function = fragment.get("function") or {}
    if function.get("name"):
        call.name = function["name"]
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        call.arguments.append(arguments)
    elif arguments is not None:  # an already-parsed object
        call.arguments.append(json.dumps(arguments))


def _finished_calls(calls: dict[int, _PartialCall]) -> list[ToolCallRequest]:
    requests = []
    for index in sorted(calls):
        call = calls[index]
        if not call.name:
            raise ProviderError("tool call without a function name in the stream", permanent=True)
        requests.append(ToolCallRequest(id=call.id or f"call_{index}", name=call.name,
                                        arguments=parse_arguments(call.name, "".join(call.arguments))))
    return requests


def _normalised(finish_reason: str | None, has_calls: bool) -> str:
    # Some servers (older Ollama, some vLLM parsers) say "stop" even when the turn ends in tool calls.
    if has_calls and finish_reason in (None, "stop"):
        return "tool_calls"
    return finish_reason or "stop"


def _usage(chunk: dict[str, Any]) -> dict[str, int]:
    usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")  # Groq used to put it under x_groq
    if not isinstance(usage, dict):
        return {}
    return {"input_tokens": int(usage.get("prompt_tokens") or 0),
            "output_tokens": int(usage.get("completion_tokens") or 0)}
