"""The agent engine's events as the widget's wire events (the HTTP API's JSON and SSE, the voice socket)."""

from __future__ import annotations

from typing import Any

from apps.agents import engine


def event_payload(event: Any) -> tuple[str, dict[str, Any]] | None:
    if isinstance(event, engine.Delta):
        return "delta", {"text": event.text}
    if isinstance(event, engine.ToolReturned) and event.ok:
        if event.name == "book_appointment":
            # start/end carry the client's offset and `timezone` its IANA zone: the card shows the hour the agent said
            return "booking", {key: event.result.get(key) for key in ("reference", "start", "end", "name", "timezone")}
        if event.name == "qualify_lead":
            return "lead", {"score": event.result.get("score")}
        return None
    if isinstance(event, engine.HandOver):
        return "handover", {"phone": event.phone, "email": event.email}
    if isinstance(event, engine.Ended):
        return "end", {}
    if isinstance(event, engine.TurnDone):
        return "done", {"message": event.message_id, "text": event.text, "latency_ms": event.latency_ms}
    return None
