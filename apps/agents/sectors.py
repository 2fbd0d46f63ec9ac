"""Sector templates (apps/agents/sectors/<code>.json): persona, greeting, closing, FAQ, booking
policy, recommended tools and voice, in fr, en, es, ar and ary. Loaded once per process."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

SECTORS_DIR = Path(__file__).resolve().parent / "sectors"
# A tie goes to the earlier: a riad with a restaurant is a hotel.
ORDER = ["dental", "hotel", "restaurant", "beauty", "fitness", "car_repair", "home_services", "real_estate",
         "ecommerce", "legal_accounting", "professional_services", "general"]


@lru_cache(maxsize=1)
def sectors() -> dict[str, dict[str, Any]]:
    loaded = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in SECTORS_DIR.glob("*.json")}
    return {code: loaded[code] for code in ORDER if code in loaded} | {
        code: data for code, data in loaded.items() if code not in ORDER}


def sector(code: str) -> dict[str, Any]:
    return sectors().get(code) or sectors()["general"]


def sector_name(code: str, language: str | None = None) -> str:
    """The sector's name as its template writes it in `language` (the active one by default), never its code
    unless the code is unknown."""
    template = sectors().get(code)
    if template is None:
        return code
    names = template["names"]
    return names.get(language or get_language() or "", "") or names.get("en") or code
