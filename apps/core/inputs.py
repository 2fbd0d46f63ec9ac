"""Untrusted input made safe before any of our code or PostgreSQL sees it.

One place for the classes a fuzzer found: a NUL byte (PostgreSQL refuses it in text), a lone
surrogate (cannot be encoded to UTF-8, so the driver fails mid-query), JSON nested thousands of
levels deep (Python's recursion limit) and integers thousands of digits long (its int-conversion
limit). Entry points (HTTP views, socket consumers) parse with `json_parse` and clean strings
with `text_clean`; both raise `InvalidInput` naming what was wrong, never a 500.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from apps.core.dates import MAX_YEAR, MIN_YEAR, date_read
from apps.core.errors import InvalidInput, PayloadTooLarge

MAX_DEPTH = 32
MAX_INT_DIGITS = 30
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _depth_ok(raw: bytes, limit: int) -> bool:
    """Count brackets outside strings without recursing (json.loads would hit the recursion limit first)."""
    depth = 0
    for match in _TOKENS.finditer(raw):
        char = match.group()
        if char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return False
        elif char in (b"]", b"}"):
            depth -= 1
    return True


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise InvalidInput(_("A number in the request is too large."))
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: stored in a JSON column it would become Infinity, which PostgreSQL refuses
        raise InvalidInput(_("A number in the request is too large."))
    return value


def _constant(name: str) -> float:
    raise InvalidInput(_("The request body is not valid JSON."))


def text_clean(value: str, *, field: str = "") -> str:
    """The string without NUL bytes; a lone surrogate (not text at all) is refused, naming the field."""
    if _SURROGATE.search(value):
        if field:
            message = _("The field “%(field)s” contains characters that are not valid text.")
            raise InvalidInput(message % {"field": field})
        raise InvalidInput(_("The request contains characters that are not valid text."))
    return value.replace("\x00", "")


def _clean(value: Any, path: str) -> Any:
    if isinstance(value, str):
        return text_clean(value, field=path)
    if isinstance(value, dict):
        return {text_clean(key, field=path or "key"): _clean(item, f"{path}.{key}" if path else str(key))
                for key, item in value.items()}
    if isinstance(value, list):
        return [_clean(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def json_parse(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse an untrusted JSON body: bounded depth and numbers, no NaN/Infinity, strings cleaned."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if not _depth_ok(data, max_depth):
        raise InvalidInput(_("The request body is nested too deeply."))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(_("The request body is not valid UTF-8.")) from None
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except (ValueError, RecursionError):
        raise InvalidInput(_("The request body is not valid JSON.")) from None
    return _clean(value, "")


def object_parse(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """`json_parse` of a body that must be a JSON object (an empty body is an empty object)."""
    if not raw:
        return {}
    value = json_parse(raw, max_depth=max_depth)
    if not isinstance(value, dict):
        raise InvalidInput(_("The request body must be a JSON object."))
    return value


def body_object(request: HttpRequest, *, max_bytes: int | None = None) -> dict[str, Any]:
    """The request's body as a JSON object (`object_parse`); a Content-Length that is not a number is refused
    before Django reads the body (it would raise ValueError), one over `max_bytes` is too large."""
    length = str(request.META.get("CONTENT_LENGTH") or "0")
    if not (length.isascii() and length.isdigit()):
        raise InvalidInput()
    if max_bytes is not None and (len(length) > 12 or int(length) > max_bytes or len(request.body) > max_bytes):
        raise PayloadTooLarge()
    return object_parse(request.body)


def text_field(data: dict[str, Any], name: str, *, limit: int | None = None) -> str:
    """The string at `data[name]` ('' when absent or null), cut at `limit`; any other type is refused by name."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("The field “%(field)s” must be text.") % {"field": name})
    return value[:limit] if limit is not None else value


def int_field(data: dict[str, Any], name: str) -> int | None:
    """The whole number at `data[name]` (a JSON number or a string of digits), None when absent or null."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**18:
        return value
    raise InvalidInput(_("The field “%(field)s” must be a whole number.") % {"field": name})


def object_field(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The JSON object at `data[name]` ({} when absent or null); any other type is refused by name."""
    value = data.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(_("The field “%(field)s” must be a JSON object.") % {"field": name})
    return value




def query_date(value: str, *, field: str) -> date | None:
    """A date from a query string (ISO, or as the language writes it): None when absent, malformed or impossible
    (2026-02-30); a date Python holds but the calendar pages cannot (0001-01-01, 9999-12-31: a week before or
    after overflows) is refused."""
    parsed = date_read(text_clean(value or "", field=field))
    if parsed is not None and not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidInput(_("The date “%(value)s” is out of range (years %(min)d to %(max)d).")
                           % {"value": value, "min": MIN_YEAR, "max": MAX_YEAR})
    return parsed
