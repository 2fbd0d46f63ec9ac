"""What the HTTP providers share: the streamed POST, server-sent events, error mapping, key redaction."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, aclosing
from typing import Any

import httpx

from apps.core.errors import ProviderError
from apps.integrations.llm.base import ProviderConfig, ToolSpec

MAX_ERROR_TEXT = 300
STREAM_ENDED_EARLY = "stream ended early"
# The official SDKs retry these as well as 5xx: the same request may succeed later.
TRANSIENT_STATUSES = frozenset({408, 409, 429})




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


def body_or_fail(build: Callable[[ProviderConfig, list[dict[str, Any]], list[ToolSpec]], dict[str, Any]],
                 config: ProviderConfig, messages: list[dict[str, Any]], tools: list[ToolSpec]) -> dict[str, Any]:
    """The request body, or a permanent ProviderError when the conversation cannot be converted."""
    try:
        return build(config, messages, tools)
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"cannot convert the conversation ({type(exc).__name__}: {exc})",
                            permanent=True) from None


async def post_checked(url: str, *, api_key: str, timeout_s: float, **kwargs: Any) -> httpx.Response:
    """One non-streamed POST (speech services): the response when 2xx, else ProviderError, the key redacted."""
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s)) as client:
            response = await client.post(url, **kwargs)
    except httpx.HTTPError as error:
        raise ProviderError(redact(f"{type(error).__name__}: {error}", api_key)) from None
    if response.status_code >= 400:
        raise http_error(response.status_code, response.content, api_key=api_key)
    return response
