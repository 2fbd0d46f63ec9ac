"""The small interface every language-model provider implements.

A provider turns a conversation (messages in OpenAI's chat shape) and the tools on
offer into a stream of events: text deltas, tool-call requests, and one final
`Done`. The engine (apps.agents.engine) executes tool calls, appends their results
to the messages and calls the provider again. Providers never touch the database.

Messages (plain dicts, OpenAI chat shape, provider-neutral):
    {"role": "system", "content": str}
    {"role": "user", "content": str}
    {"role": "assistant", "content": str, "tool_calls": [{"id", "name", "arguments": dict}]}  # tool_calls optional
    {"role": "tool", "tool_call_id": str, "name": str, "content": str}   # content: JSON text of the result
Each provider converts these to its own wire format.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments object


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallRequest:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Done:
    finish_reason: str = "stop"  # "stop", "tool_calls", "length"
    usage: dict[str, int] = field(default_factory=dict)  # {"input_tokens": n, "output_tokens": n} when known


ProviderEvent = TextDelta | ToolCallRequest | Done


@dataclass(frozen=True)
class ProviderConfig:
    model: str
    api_key: str = ""
    base_url: str = ""
    temperature: float = 0.3
    timeout_s: float = 20.0
    max_tokens: int = 800
    agency_pays: bool = False  # the agency's own key: its tokens are billed to the client (llm_token)


class HttpLLMProvider(ProviderBase):
    """What the HTTP language-model providers share: their settings. They are stateless: the key, base URL
    and model travel in the ProviderConfig of each call, built by apps.integrations.resolver.llm_for."""

    fields = (
        Field("api_key", _("API key"), secret=True, required=False),
        Field("base_url", _("API base URL"), required=False, placeholder="https://api.openai.com/v1"),
        Field("model", _("Model"), required=False),
    )

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> Any:
        return cls()


class LLMProvider(Protocol):
    name: str

    def stream(self, *, config: ProviderConfig, messages: list[dict[str, Any]],
               tools: list[ToolSpec]) -> AsyncIterator[ProviderEvent]:
        """Yield events; raise ProviderError(message, permanent=...) on any failure (HTTP error,
        timeout, malformed response). Never raise anything else."""
        ...


__all__ = ["Done", "HttpLLMProvider", "LLMProvider", "ProviderConfig", "ProviderError", "ProviderEvent", "TextDelta",
           "ToolCallRequest", "ToolSpec"]
