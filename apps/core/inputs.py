"""Untrusted input made safe before any of our code or PostgreSQL sees it.

One place for the classes a fuzzer found: a NUL byte (PostgreSQL refuses it in text), a lone
surrogate (cannot be encoded to UTF-8, so the driver fails mid-query), JSON nested thousands of
levels deep (Python's recursion limit) and integers thousands of digits long (its int-conversion
limit). Entry points (HTTP views, socket consumers) parse with `json_parse` and clean strings
with `text_clean`; both raise `InvalidInput` naming what was wrong, never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput

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
        value = json.loads(text, parse_int=_int, parse_constant=_constant)
    except (ValueError, RecursionError):
        raise InvalidInput(_("The request body is not valid JSON.")) from None
    return _clean(value, "")
