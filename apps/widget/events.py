"""The agent engine's events as the widget's wire events (the HTTP API's JSON and SSE, the voice socket)."""

from __future__ import annotations

from typing import Any

from apps.agents import engine
from apps.agents.tools import tool_effects

# The cards the widget shows, by tool effect, and the result fields each carries. A booking's start/end carry the
# client's offset and `timezone` its IANA zone, so the card shows the hour the agent said.
CARDS = {"booking": ("reference", "start", "end", "name", "timezone"), "lead": ("score",)}


def event_payload(event: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, engine.Delta):
        return "delta", {"text": event.text}
    if isinstance(event, engine.ToolReturned) and event.ok:
        for effect in tool_effects(event.name):
            if effect in CARDS:
                return effect, {key: event.result.get(key) for key in CARDS[effect]}
        return None
    if isinstance(event, engine.HandOver):
        return "handover", {"phone": event.phone, "email": event.email}
    if isinstance(event, engine.Ended):
        return "end", {}
    if isinstance(event, engine.HumanAnswering):
        return "human", {"active": True}
    if isinstance(event, engine.TurnDone):
        return "done", {"message": event.message_id, "text": event.text, "latency_ms": event.latency_ms}
    return None
