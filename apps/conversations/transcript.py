"""A conversation's tool calls, for people: the tool's label, its arguments and its result as name/value pairs
in the active language (times in the active time zone, the client's on its dashboard), never a Python dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator
from django.utils.translation import get_language_bidi, gettext_lazy
from django.utils.translation import gettext as _

from apps.agents.tools import tool_field_label, tool_label
from apps.crm.models import Ticket
from apps.messaging.models import OutboxMessage

MAX_ITEMS = 6
MAX_TEXT = 300
# Values that are codes, by the field they come in
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "priority": dict(Ticket.Priority.choices), "channel": dict(OutboxMessage.Channel.choices),
    "status": dict(OutboxMessage.Status.choices),
    "action": {"rescheduled": gettext_lazy("Moved"), "cancelled": gettext_lazy("Cancelled")},
}


@dataclass(frozen=True)
class ToolCard:
    label: str
    ok: bool
    arguments: list[tuple[str, str]] = field(default_factory=list)
    result: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""


def _separator() -> str:
    return "، " if get_language_bidi() else ", "


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str):
        moment = parse_datetime(value) if "T" in value[:11] and value[:4].isdigit() else None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
        return Truncator(value).chars(MAX_TEXT)
    if isinstance(value, dict):
        if "document" in value:  # a knowledge passage: the document it comes from
            return _value(value["document"])
        return _separator().join(f"{tool_field_label(str(key))}: {_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        shown = _separator().join(_value(item) for item in value[:MAX_ITEMS])
        return shown + ("…" if len(value) > MAX_ITEMS else "")
    return "" if value is None else formats.localize(value)


def _field(key: str, value: Any) -> str:
    if isinstance(value, str) and value in VALUE_LABELS.get(key, {}):
        return str(VALUE_LABELS[key][value])
    return _value(value)


def _pairs(data: dict[str, Any], skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    return [(tool_field_label(str(key)), _field(str(key), value)) for key, value in data.items()
            if key not in skip and value not in (None, "", [], {})]


def tool_card(*, name: str, arguments: Any, result: Any) -> ToolCard:
    arguments = arguments if isinstance(arguments, dict) else {"arguments": arguments}
    result = result if isinstance(result, dict) else {"result": result}
    error = str(result.get("error") or "")
    return ToolCard(label=tool_label(name), ok=not error, arguments=_pairs(arguments),
                    result=_pairs(result, skip=frozenset({"error", "code"})), error=Truncator(error).chars(MAX_TEXT))
