from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from apps.agents.sectors import sector_name as _sector_name
from apps.core.dates import date_example as _date_example
from apps.core.languages import language_name as _language_name
from apps.core.languages import language_names as _language_names
from apps.knowledge.selectors import search_method_label

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def language_name(code: str) -> str:
    """{{ conversation.language|language_name }} → "Arabic" / "العربية", never "ar"."""
    return _language_name(code)


@register.filter
def language_names(codes: Iterable[str]) -> str:
    return _language_names(codes or [])


@register.filter
def sector_name(code: str) -> str:
    return _sector_name(code)


@register.filter
def search_method(method: str) -> str:
    return search_method_label(method)


@register.simple_tag
def date_example() -> str:
    """The placeholder of a date field: 31/12/2026, as the active language writes dates."""
    return _date_example()


@register.filter
def text_dir(value: object) -> str:
    """"ltr" for text without letters (a phone number, a time: "+212…" must not become "…212+" in RTL), else
    "auto" (the text's own direction)."""
    return "auto" if any(character.isalpha() for character in str(value)) else "ltr"
