"""The event catalogue: every type a client can subscribe to, its version, what it means and its JSON schema.

Data, not code: the API serves `catalogue()` as is, the Developers page and docs/webhooks.md show it. Adding a
type: one entry here, one `event_record(type=..., data=...)` line in the service that makes the change, and a
test that the data it sends matches the schema (tests/events/test_catalogue.py checks every entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
TIME = {"type": "string", "format": "date-time"}
NTIME = {"type": ["string", "null"], "format": "date-time"}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": True}


CONVERSATION = _object(id=INT, agent_id=INT, channel=STR, language=STR, outcome=STR, started=TIME, ended=NTIME)
MESSAGE = _object(id=INT, conversation_id=INT, role={"type": "string", "enum": ["user", "assistant"]}, text=STR,
                  created=TIME)
LEAD = _object(id=INT, conversation_id=NINT, name=STR, email=STR, phone=STR, company=STR, need=STR,
               budget=NSTR, budget_currency=STR, score=INT, breakdown={"type": "object"}, status=STR, created=TIME)
APPOINTMENT = _object(id=INT, reference=STR, agent_id=INT, conversation_id=NINT, start=TIME, end=TIME,
                      customer_name=STR, customer_phone=STR, customer_email=STR, notes=STR, status=STR,
                      created=TIME)
RESCHEDULED = {**APPOINTMENT, "properties": {**APPOINTMENT["properties"], "previous_reference": STR,
                                             "previous_start": TIME},
               "required": sorted([*APPOINTMENT["required"], "previous_reference", "previous_start"])}
TICKET = _object(id=INT, conversation_id=NINT, subject=STR, description=STR, priority=STR, status=STR, contact=STR,
                 created=TIME)
CALLBACK = _object(id=INT, conversation_id=NINT, name=STR, phone=STR, due_at=TIME, reason=STR, status=STR,
                   created=TIME)
CALL = _object(id=INT, call_sid=STR, conversation_id=NINT, direction=STR, status=STR, answered_at=NTIME,
               ended_at=NTIME, duration_s=NINT, outcome=STR, recording_duration_s=NINT,
               **{"from": STR, "to": STR})
TEST = _object(message=STR, endpoint_id=INT)


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: Any  # lazily translated
    schema: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.name, "version": self.version, "description": str(self.description),
                "schema": self.schema}


TYPES: dict[str, EventType] = {entry.name: entry for entry in [
    EventType("conversation.started", 1, _("A visitor or caller started a conversation with an agent."),
              CONVERSATION),
    EventType("conversation.ended", 1, _("A conversation ended (the visitor left, or the agent closed it)."),
              CONVERSATION),
    EventType("message.created", 1, _("A visitor's message or an agent's reply was added to a conversation."),
              MESSAGE),
    EventType("lead.created", 1, _("An agent recorded a new lead."), LEAD),
    EventType("lead.qualified", 1, _("A lead's BANT score reached the qualified threshold (50 of 100)."), LEAD),
    EventType("appointment.booked", 1, _("An appointment was booked."), APPOINTMENT),
    EventType("appointment.rescheduled", 1,
              _("An appointment was moved to another time (the new booking, with the previous reference)."),
              RESCHEDULED),
    EventType("appointment.cancelled", 1, _("An appointment was cancelled."), APPOINTMENT),
    EventType("ticket.created", 1, _("A support ticket was opened."), TICKET),
    EventType("callback.scheduled", 1, _("A callback was planned."), CALLBACK),
    EventType("callback.done", 1, _("A planned callback was marked done."), CALLBACK),
    EventType("call.started", 1, _("A phone call was answered by an agent (a caller's, or one the agent placed)."),
              CALL),
    EventType("call.ended", 1, _("A phone call ended (its duration, outcome and minutes are final)."), CALL),
    EventType("recording.ready", 1, _("A call's recording is ready to be played from the dashboard."), CALL),
    EventType("webhook.test", 1, _("A test sent from the Developers page; never sent otherwise."), TEST),
]}

# Types an endpoint can choose (the test is sent to one endpoint only, whatever it chose).
SUBSCRIBABLE = [name for name in TYPES if name != "webhook.test"]


def event_type(name: str) -> EventType:
    """The catalogue's entry; KeyError for a type that is not in it (a programming error)."""
    return TYPES[name]


_JSON_TYPES: dict[str, Any] = {"string": str, "integer": int, "object": dict, "null": type(None), "array": list,
                               "boolean": bool, "number": (int, float)}


def data_problems(name: str, data: Any) -> list[str]:
    """What in `data` does not match the type's schema (the subset the catalogue uses: type, required,
    properties, enum); [] when it matches. For the tests and the API's docs, not on the hot path."""
    schema = TYPES[name].schema
    if not isinstance(data, dict):
        return ["data is not an object"]
    problems = [f"missing {key}" for key in schema["required"] if key not in data]
    for key, rule in schema["properties"].items():
        if key not in data:
            continue
        kinds = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        value = data[key]
        if isinstance(value, bool) and "boolean" not in kinds:
            problems.append(f"{key}: a boolean")
        elif not any(isinstance(value, _JSON_TYPES[kind]) for kind in kinds):
            problems.append(f"{key}: {type(value).__name__} is not {'/'.join(kinds)}")
        elif "enum" in rule and value not in rule["enum"]:
            problems.append(f"{key}: {value!r} not in {rule['enum']}")
    return problems


def openapi_catalogue() -> dict[str, dict[str, Any]]:
    """The catalogue as the REST API's OpenAPI document wants it (settings.API_WEBHOOK_CATALOGUE names this):
    type → {"version", "description", "schema"}, for apps/api/schema.webhooks_merge."""
    return {name: {"version": entry.version, "description": str(entry.description), "schema": entry.schema}
            for name, entry in TYPES.items()}
