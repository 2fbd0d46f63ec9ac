"""Dates people type, in their language's way: `<input type=date>` shows mm/dd/yyyy (Chromium's own locale, not
the page's), so the dashboard's date fields are text fields read with the active language's DATE_INPUT_FORMATS
(vocalia/formats: 31/12/2026 in every language we speak) and ISO 8601 (what links and bookmarks carry)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import formats

MIN_YEAR, MAX_YEAR = 1900, 2999  # anything else is a typo, and date arithmetic stays far from date.min/max
MAX_CHARS = 32


def date_read(value: str | None) -> date | None:
    """A date as typed (ISO first, then the active language's formats), whatever its year; None if unreadable."""
    text = (value or "").strip()
    if not text or len(text) > MAX_CHARS:
        return None
    for pattern in ["%Y-%m-%d", *formats.get_format("DATE_INPUT_FORMATS")]:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def date_parse(value: str | None) -> date | None:
    """A date from a query string or a field; None when empty, malformed, impossible (30/02) or absurd."""
    parsed = date_read(value)
    return parsed if parsed is not None and MIN_YEAR <= parsed.year <= MAX_YEAR else None


def date_input_value(value: date | None, raw: str = "") -> str:
    """What a date field shows: the date the language's way, or what was typed when it could not be read."""
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else (raw or "")[:MAX_CHARS]


def date_example() -> str:
    """A placeholder that cannot be misread: the 31st comes first or last, never as a month."""
    return formats.date_format(date(date.today().year, 12, 31), "SHORT_DATE_FORMAT")
