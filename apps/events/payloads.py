"""What each event's `data` holds, from the row it describes (the catalogue's schemas say the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "agent_id": row.agent_id, "channel": row.channel, "language": row.language,
            "outcome": row.outcome, "started": _time(row.started), "ended": _time(row.ended)}


def message(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "conversation_id": row.conversation_id, "role": row.role, "text": row.text,
            "created": _time(row.created)}


def lead(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "conversation_id": row.conversation_id, "name": row.name, "email": row.email,
            "phone": row.phone, "company": row.company, "need": row.need,
            "budget": None if row.budget is None else str(row.budget), "budget_currency": row.budget_currency,
            "score": row.score, "breakdown": row.breakdown, "status": row.status, "created": _time(row.created)}


def appointment(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "reference": row.reference, "agent_id": row.agent_id,
            "conversation_id": row.conversation_id, "start": _time(row.start), "end": _time(row.end),
            "customer_name": row.customer_name, "customer_phone": row.customer_phone,
            "customer_email": row.customer_email, "notes": row.notes, "status": row.status,
            "created": _time(row.created)}


def ticket(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "conversation_id": row.conversation_id, "subject": row.subject,
            "description": row.description, "priority": row.priority, "status": row.status, "contact": row.contact,
            "created": _time(row.created)}


def callback(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "conversation_id": row.conversation_id, "name": row.name, "phone": row.phone,
            "due_at": _time(row.due_at), "reason": row.reason, "status": row.status, "created": _time(row.created)}


def call(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "call_sid": row.call_sid, "conversation_id": row.conversation_id,
            "direction": row.direction, "from": row.from_number, "to": row.to_number, "status": row.status,
            "answered_at": _time(row.answered_at), "ended_at": _time(row.ended_at), "duration_s": row.duration_s,
            "outcome": row.outcome or "", "recording_duration_s": row.recording_duration_s}
