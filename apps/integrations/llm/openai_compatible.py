"""Provider for every server that speaks OpenAI's Chat Completions API (OpenAI, xAI, Groq, Mistral, vLLM, Ollama).

Wire format: POST {base_url}/chat/completions with `"stream": true`; the answer is server-sent events, one
`data: {chat.completion.chunk}` line each, ended by `data: [DONE]`. Text arrives in choices[0].delta.content;
tool calls arrive in choices[0].delta.tool_calls as fragments keyed by "index" (id and name first, then the
arguments JSON as string pieces); choices[0].finish_reason closes the turn, and with stream_options.include_usage
one last chunk with empty choices carries usage.{prompt_tokens, completion_tokens}.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.llm.base import (
    Done,
    HttpLLMProvider,
    ProviderConfig,
    ProviderEvent,
    TextDelta,
    ToolCallRequest,
    ToolSpec,
)
from apps.integrations.wire import (
    STREAM_ENDED_EARLY,
    body_or_fail,
    error_message_from_body,
    parameters_schema,
    parse_arguments,
    parse_json,
    post_sse_lines,
    redact,
    sse_data,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
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


class OpenAICompatibleProvider(HttpLLMProvider):
    label = _("OpenAI-compatible (OpenAI, Grok, Groq, Mistral, vLLM, Ollama)")
    name = "openai_compatible"

    async def stream(self, *, config: ProviderConfig, messages: list[dict[str, Any]],
                     tools: list[ToolSpec]) -> AsyncIterator[ProviderEvent]:
        body = body_or_fail(request_body, config, messages, tools)
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
