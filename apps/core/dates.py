"""Dates people type, in their language's way: `<input type=date>` shows mm/dd/yyyy (Chromium's own locale, not
the page's), so the dashboard's date fields are text fields read with the active language's DATE_INPUT_FORMATS
(vocalia/formats: 31/12/2026 in every language we speak) and ISO 8601 (what links and bookmarks carry)."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import formats
from django.utils.translation import gettext

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
    """A placeholder that cannot be misread: the 31st comes first or last, never as a month, and "e.g."
    says it is an example, not a filter already set."""
    return gettext("e.g. %(date)s") % {"date": formats.date_format(date(date.today().year, 12, 31),
                                                                   "SHORT_DATE_FORMAT")}


WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def week_hours(hours: dict[str, list[list[str]]] | None) -> str:
    """Weekly opening hours in the active language, days with the same hours grouped and closed days left
    out: "lundi–vendredi 09:00–12:30, 14:00–18:00 ; samedi 09:00–12:30", "الاثنين–الجمعة 09:00–18:00"
    (day names and the clock from the language's formats: an Arabic reply gets no French "9h–18h")."""
    from django.utils.translation import get_language

    language = (get_language() or "").split("-")[0]
    arabic = language in {"ar", "ary"}
    monday = date(2024, 1, 1)  # a Monday
    groups: list[tuple[int, int, str]] = []
    for index, day in enumerate(WEEK):
        spans = []
        for span in (hours or {}).get(day) or []:
            try:
                opens, closes = (datetime.strptime(str(value), "%H:%M").time() for value in span[:2])
            except (TypeError, ValueError):
                continue
            spans.append(f"{formats.time_format(opens)}–{formats.time_format(closes)}")
        if not spans:
            continue
        text = ("، " if arabic else ", ").join(spans)
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == text:
            groups[-1] = (groups[-1][0], index, text)
        else:
            groups.append((index, index, text))

    def name(index: int) -> str:
        day = formats.date_format(date.fromordinal(monday.toordinal() + index), "l")
        return day.lower() if language in {"fr", "es"} else day  # no capital there

    parts = [f"{name(first) if first == last else name(first) + '–' + name(last)} {text}"
             for first, last, text in groups]
    return ("؛ " if arabic else " ; " if language == "fr" else "; ").join(parts)
