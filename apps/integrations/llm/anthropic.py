"""Provider for Anthropic's Messages API (Claude).

Wire format: POST {base_url}/v1/messages with `"stream": true`; the answer is server-sent events, each an
`event: <type>` line and a `data: {"type": <type>, ...}` line: message_start (usage.input_tokens), then per content
block content_block_start / content_block_delta (text_delta, or input_json_delta pieces of a tool_use block's input)
/ content_block_stop, then message_delta (stop_reason, usage.output_tokens) and message_stop; `ping` keeps the
connection alive and `error` reports a failure after the 200. The system prompt is a top-level field, not a message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

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

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length"}
# Error types of an `error` event that a later attempt will not fix.
PERMANENT_ERROR_TYPES = frozenset({
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large",
})


def convert_messages(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """(system prompt, Messages API turns): system messages joined, tool calls and results as content blocks,
    consecutive turns of one role merged since the API wants user and assistant to alternate."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        content = message.get("content") or ""
        if role == "system":
            if content:
                system.append(content)
            continue
        if role == "tool":
            _append(turns, "user", [{"type": "tool_result", "tool_use_id": message["tool_call_id"],
                                     "content": content}])
        elif role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": content}] if content else []
            blocks += [
                {"type": "tool_use", "id": call["id"], "name": call["name"], "input": call.get("arguments") or {}}
                for call in message.get("tool_calls") or []
            ]
            if blocks and not turns and not message.get("tool_calls"):  # the API wants a user turn first: the
                system.append(f"You opened the conversation with: {content}")  # widget's greeting goes there
            elif blocks:  # the API refuses empty text blocks and empty turns
                _append(turns, "assistant", blocks)
        else:
            _append(turns, "user", content)
    return "\n\n".join(system), turns


def _append(turns: list[dict[str, Any]], role: str, content: str | list[dict[str, Any]]) -> None:
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"] = _blocks(turns[-1]["content"]) + _blocks(content)
    else:
        turns.append({"role": role, "content": content})


def _blocks(content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return content
    return [{"type": "text", "text": content}] if content else []


def request_body(config: ProviderConfig, messages: list[dict[str, Any]], tools: list[ToolSpec]) -> dict[str, Any]:
    system, turns = convert_messages(messages)
    body: dict[str, Any] = {
        "model": config.model,
        "max_tokens": config.max_tokens,
        "temperature": min(max(config.temperature, 0.0), 1.0),  # Anthropic accepts 0..1 only (OpenAI 0..2)
        "stream": True,
        "messages": turns,
    }
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [{"name": tool.name, "description": tool.description, "input_schema": parameters_schema(tool)}
                         for tool in tools]
    return body


class AnthropicProvider(HttpLLMProvider):
    label = "Anthropic"
    name = "anthropic"

    async def stream(self, *, config: ProviderConfig, messages: list[dict[str, Any]],
                     tools: list[ToolSpec]) -> AsyncIterator[ProviderEvent]:
        body = body_or_fail(request_body, config, messages, tools)
        headers = {"x-api-key": config.api_key, "anthropic-version": API_VERSION,
                   "content-type": "application/json", "accept": "text/event-stream"}
        url = (config.base_url or DEFAULT_BASE_URL).rstrip("/") + "/v1/messages"

        tool_blocks: dict[int, dict[str, Any]] = {}  # block index -> {"id", "name", "json": [pieces]}
        usage: dict[str, int] = {}
        stop_reason: str | None = None
        async with aclosing(post_sse_lines(url=url, headers=headers, body=body, config=config)) as lines:
            async for line in lines:
                data = sse_data(line)
                if data is None or not data.strip():
                    continue  # `event:` lines repeat the "type" inside each data object
                event = parse_json(data)
                kind = event.get("type")
                if kind == "message_start":
                    message_usage = (event.get("message") or {}).get("usage") or {}
                    usage["input_tokens"] = sum(int(message_usage.get(key) or 0) for key in (
                        "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
                    if "output_tokens" in message_usage:
                        usage["output_tokens"] = int(message_usage["output_tokens"] or 0)
                elif kind == "content_block_start":
                    block = event.get("content_block") or {}
                    if block.get("type") == "tool_use":
                        tool_blocks[event.get("index", 0)] = {"id": block.get("id", ""), "name": block.get("name", ""),
                                                              "json": []}
                elif kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    if delta.get("type") == "text_delta" and delta.get("text"):
                        yield TextDelta(delta["text"])
                    elif delta.get("type") == "input_json_delta" and event.get("index", 0) in tool_blocks:
                        tool_blocks[event.get("index", 0)]["json"].append(delta.get("partial_json") or "")
                elif kind == "content_block_stop":
                    call = tool_blocks.pop(event.get("index", 0), None)
                    if call is not None:
                        yield ToolCallRequest(id=call["id"], name=call["name"],
                                              arguments=parse_arguments(call["name"], "".join(call["json"])))
                elif kind == "message_delta":
                    stop_reason = (event.get("delta") or {}).get("stop_reason") or stop_reason
                    delta_usage = event.get("usage") or {}
                    if "output_tokens" in delta_usage:
                        usage["output_tokens"] = int(delta_usage["output_tokens"] or 0)
                elif kind == "message_stop":
                    reason = stop_reason or "end_turn"
                    yield Done(STOP_REASONS.get(reason, reason), usage)
                    return
                elif kind == "error":
                    error = event.get("error") or {}
                    detail = redact(error_message_from_body(data.encode()), config.api_key)
                    raise ProviderError(f"error in the stream: {detail}",
                                        permanent=error.get("type") in PERMANENT_ERROR_TYPES)
                # "ping", and event types added to the API later, carry nothing we need.
        raise ProviderError(STREAM_ENDED_EARLY, permanent=False)
