"""A person's phone number as they type it, to E.164.

Visitors write numbers the way their country does ("0661 23 45 67" in Morocco, "06 12 34 56 78" in France):
those are read in the client's country, which comes from the client's time zone (the IANA zone table names
each zone's countries; a zone of several countries, or none, gives no default and only international numbers
are read). `phonenumbers` (Google's libphonenumber data) does the parsing and the validity check."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import phonenumbers

# zone.tab first: one country a line (zone1970.tab groups countries sharing a zone)
ZONE_TABLES = (Path("/usr/share/zoneinfo/zone.tab"), Path("/usr/share/zoneinfo/zone1970.tab"))
MAX_INPUT = 40
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """zone → country code, for zones of exactly one country."""
    found: dict[str, set[str]] = {}
    for table in ZONE_TABLES:
        if not table.exists():
            continue
        for line in table.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) >= 3:
                found.setdefault(parts[2], set()).update(parts[0].split(","))
        break
    return {zone: next(iter(codes)) for zone, codes in found.items() if len(codes) == 1}


def region_for_zone(zone: str) -> str | None:
    return _zone_countries().get(zone or "")


def phone_e164(text: str, *, region: str | None = None) -> str:
    """'+212 661-234567', '00212661234567', or '0661234567' with region 'MA' → '+212661234567'; '' when it is
    neither international (+ and 7 to 15 digits) nor a valid national number of `region`."""
    raw = (text or "").strip()
    if raw.lower().startswith("whatsapp:"):
        raw = raw[len("whatsapp:"):]
    if not raw or len(raw) > MAX_INPUT or any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in raw):
        return ""
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    compact = re.sub(r"[\s().-]", "", raw)
    if E164_RE.match(compact):  # international already: kept as written (test ranges and new ones included)
        return compact
    try:
        number = phonenumbers.parse(raw, None if raw.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def client_phone_e164(text: str) -> str:
    """`phone_e164` in the active client's country (its time zone's)."""
    from django.db import connection

    zone = getattr(getattr(connection, "tenant", None), "timezone", "") or ""
    return phone_e164(text, region=region_for_zone(zone))
