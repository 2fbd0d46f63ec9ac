"""A conversation's tool calls, for people: the tool's label, its arguments and its result as name/value pairs
in the active language (times in the active time zone, the client's on its dashboard), never a Python dict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import Truncator
from django.utils.translation import get_language_bidi, gettext_lazy
from django.utils.translation import gettext as _

from apps.agents.tools import tool_field_label, tool_label
from apps.crm.models import Ticket
from apps.integrations.models import Delivery

FIRST = ["action", "reference", "start", "new_start", "end", "when", "date", "time", "name", "phone", "email"]
MAX_ITEMS = 6
MAX_TEXT = 300
# Values that are codes, by the field they come in
VALUE_LABELS: dict[str, dict[str, Any]] = {
    "priority": dict(Ticket.Priority.choices), "channel": dict(Delivery.Channel.choices),
    "status": dict(Delivery.Status.choices),
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


def _when(value: str) -> str:
    """An ISO 8601 date-time (in the active zone) or date, written the language's way; "" for anything else."""
    if len(value) < 10 or len(value) > 40 or not (value[:4].isdigit() and value[4:5] == "-"):
        return ""
    try:
        moment = parse_datetime(value) if len(value) > 10 else None
        day = parse_date(value) if len(value) == 10 else None
    except ValueError:  # 2026-02-30
        return ""
    if moment is not None:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day is not None else ""


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, str):
        return _when(value) or Truncator(value).chars(MAX_TEXT)
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
    """Name/value pairs, the telling fields first (JSONB does not keep the order they were written in)."""
    keys = sorted((str(key) for key in data), key=lambda key: FIRST.index(key) if key in FIRST else len(FIRST))
    return [(tool_field_label(key), _field(key, data[key])) for key in keys
            if key not in skip and data[key] not in (None, "", [], {})]


def tool_card(*, name: str, arguments: Any, result: Any) -> ToolCard:
    arguments = arguments if isinstance(arguments, dict) else {"arguments": arguments}
    result = result if isinstance(result, dict) else {"result": result}
    error = str(result.get("error") or "")
    return ToolCard(label=tool_label(name), ok=not error, arguments=_pairs(arguments),
                    result=_pairs(result, skip=frozenset({"error", "code"})), error=Truncator(error).chars(MAX_TEXT))
