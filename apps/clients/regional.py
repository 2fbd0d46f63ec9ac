"""A client's time zone and currency: the values offered to staff and owners, and the check every write makes.

Time zones are the IANA "Area/City" names this machine knows (`zoneinfo.available_timezones()`, without
the old aliases such as "US/Eastern" or "Etc/GMT+1", nor "localtime"), plus UTC; the product's markets
come first. Currencies are a short, curated ISO 4217 list: the ones the agency bills and its clients sell in.
"""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
          "Indian/", "Pacific/")
TIMEZONES: frozenset[str] = frozenset(
    {name for name in zoneinfo.available_timezones() if name.startswith(_AREAS)} | {"UTC"}
)
COMMON_TIMEZONES: tuple[str, ...] = tuple(name for name in (
    "Africa/Casablanca", "Europe/Paris", "Europe/Madrid", "Europe/Brussels", "Europe/London", "Africa/Algiers",
    "Africa/Tunis", "Asia/Dubai", "Asia/Riyadh", "America/Montreal", "America/New_York", "UTC",
) if name in TIMEZONES)

CURRENCIES: dict[str, Any] = {
    "MAD": gettext_lazy("Moroccan dirham"),
    "EUR": gettext_lazy("Euro"),
    "USD": gettext_lazy("US dollar"),
    "GBP": gettext_lazy("Pound sterling"),
    "CHF": gettext_lazy("Swiss franc"),
    "CAD": gettext_lazy("Canadian dollar"),
    "DZD": gettext_lazy("Algerian dinar"),
    "TND": gettext_lazy("Tunisian dinar"),
    "XOF": gettext_lazy("West African CFA franc"),
    "AED": gettext_lazy("UAE dirham"),
    "SAR": gettext_lazy("Saudi riyal"),
    "EGP": gettext_lazy("Egyptian pound"),
}


def _timezone_label(name: str) -> str:
    return name.replace("_", " ")


def timezone_choices() -> list[tuple[Any, list[tuple[str, str]]]]:
    """Grouped choices for a select: the markets' zones, then every zone A to Z (the first ones again)."""
    return [
        (gettext_lazy("Common"), [(name, _timezone_label(name)) for name in COMMON_TIMEZONES]),
        (gettext_lazy("All time zones"), [(name, _timezone_label(name)) for name in sorted(TIMEZONES)]),
    ]


def _currency_label(code: str) -> str:
    return f"{code} – {CURRENCIES[code]}"


_currency_label_lazy = lazy(_currency_label, str)


def currency_choices() -> list[tuple[str, Any]]:
    return [(code, _currency_label_lazy(code)) for code in CURRENCIES]


def timezone_problem(name: str) -> str | None:
    if name in TIMEZONES:
        return None
    return _("“%(value)s” is not a time zone we know; choose one from the list (for example Africa/Casablanca).") \
        % {"value": name[:64]}


def currency_problem(code: str) -> str | None:
    if code in CURRENCIES:
        return None
    return _("“%(value)s” is not a currency we offer; choose one of %(codes)s.") \
        % {"value": code[:16], "codes": ", ".join(CURRENCIES)}


def choices_keeping(choices: list[Any], current: str, known: Any) -> list[Any]:
    """`choices`, with a value already stored but no longer offered first, so that saving a form leaves it
    as it is instead of silently taking the first choice (rows written before these lists existed)."""
    if current and current not in known:
        return [(current, current), *choices]
    return choices
