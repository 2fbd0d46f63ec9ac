"""Lists of the REST API: opaque cursors over (created, id), created-at filters, a bounded page size.

A cursor names the last row of a page by its sort key, signed (a client cannot forge one) and opaque. The next
page is the rows strictly after it in the list's order, so rows inserted meanwhile never shift a page nor appear
twice: newest-first lists (the default) get new rows at their head, oldest-first ones (a conversation's messages)
at their tail, which the cursor then reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from apps.core.dates import MAX_YEAR, MIN_YEAR
from apps.core.errors import InvalidInput
from apps.core.inputs import text_clean

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
CURSOR_SALT = "vocalia.api.cursor"
MAX_PARAM_CHARS = 500


@dataclass(frozen=True)
class ListParams:
    limit: int
    cursor: tuple[str, int] | None
    created_after: datetime | None
    created_before: datetime | None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    has_more: bool
    next_cursor: str | None


def query_text(params: Any, name: str) -> str:
    """A query parameter as clean text ('' when absent): NUL and lone surrogates refused, length bounded."""
    value = params.get(name, "")
    if "\x00" in value or len(value) > MAX_PARAM_CHARS:
        raise InvalidInput(_("The parameter “%(field)s” is not valid.") % {"field": name}, param=name)
    return text_clean(value, field=name)


def query_choice(params: Any, name: str, choices: list[str]) -> str:
    value = query_text(params, name)
    if value and value not in choices:
        raise InvalidInput(_("The parameter “%(field)s” must be one of: %(choices)s.")
                           % {"field": name, "choices": ", ".join(choices)}, param=name)
    return value


def query_int(params: Any, name: str, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    value = query_text(params, name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 10 and low <= int(value) <= high):
        raise InvalidInput(_("The parameter “%(field)s” must be a whole number from %(low)d to %(high)d.")
                           % {"field": name, "low": low, "high": high}, param=name)
    return int(value)


def moment_parse(value: str, *, field: str) -> datetime:
    """An ISO 8601 moment (`2026-12-01T09:30:00+01:00`, `…Z`) or a day (`2026-12-01`, midnight UTC); a time without
    an offset is UTC. Malformed, impossible (02-30) or outside years MIN_YEAR–MAX_YEAR: InvalidInput naming `field`."""
    problem = InvalidInput(_("The parameter “%(field)s” must be an ISO 8601 date or date-time between the years "
                             "%(min)d and %(max)d.") % {"field": field, "min": MIN_YEAR, "max": MAX_YEAR}, param=field)
    text = value.strip()
    try:
        moment = parse_datetime(text)
        day: date | None = None if moment else parse_date(text)
    except ValueError:
        raise problem from None
    if moment is None and day is not None:
        moment = datetime.combine(day, time(0), UTC)
    if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise problem
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def list_params(params: Any) -> ListParams:
    limit = query_int(params, "limit", low=1, high=MAX_LIMIT) or DEFAULT_LIMIT
    raw_cursor = query_text(params, "cursor")
    cursor = None
    if raw_cursor:
        try:
            key, row_id = signing.loads(raw_cursor, salt=CURSOR_SALT)
            cursor = (str(key), int(row_id))
        except (signing.BadSignature, ValueError, TypeError):
            raise InvalidInput(_("The cursor is not valid: pass `next_cursor` from the previous page as it is."),
                               param="cursor") from None
    after, before = query_text(params, "created_after"), query_text(params, "created_before")
    return ListParams(limit=limit, cursor=cursor,
                      created_after=moment_parse(after, field="created_after") if after else None,
                      created_before=moment_parse(before, field="created_before") if before else None)


def paginate(rows: QuerySet[Any], params: ListParams, *, created_field: str = "created",
             newest_first: bool = True) -> Page:
    """One page of `rows` ordered by (`created_field`, id), newest first unless `newest_first` is False."""
    if params.created_after is not None:
        rows = rows.filter(**{f"{created_field}__gt": params.created_after})
    if params.created_before is not None:
        rows = rows.filter(**{f"{created_field}__lt": params.created_before})
    direction = "lt" if newest_first else "gt"
    if params.cursor is not None:
        key_text, last_id = params.cursor
        key = datetime.fromisoformat(key_text)
        rows = rows.filter(Q(**{f"{created_field}__{direction}": key})
                           | Q(**{created_field: key, f"id__{direction}": last_id}))
    sign = "-" if newest_first else ""
    items = list(rows.order_by(f"{sign}{created_field}", f"{sign}id")[: params.limit + 1])
    has_more = len(items) > params.limit
    items = items[: params.limit]
    next_cursor = None
    if has_more:
        last = items[-1]
        next_cursor = signing.dumps([getattr(last, created_field).isoformat(), last.pk], salt=CURSOR_SALT)
    return Page(items=items, has_more=has_more, next_cursor=next_cursor)
