"""From business information to a draft agent (AlloKoli F1/F2): sector detection with its evidence,
template filling, tools and voice recommended with a reason each. Nothing is saved: the user
reviews the draft, then `agent_create_from_draft` saves it."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from apps.agents.builtin.nlu import normalise
from apps.agents.models import LANGUAGE_CODES, Agent
from apps.agents.reading import WEEK, hours_read, hours_say, prices_read, prices_say
from apps.agents.sectors import sector, sectors
from apps.core.errors import InvalidInput

# Offline voices (espeak-ng) per language; cloud voices are chosen per provider in the voice issue.
OFFLINE_VOICES = {"fr": "fr-fr", "en": "en-gb", "es": "es", "ar": "ar", "ary": "ar"}


_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _week(days: list[str], intervals: list[list[str]]) -> dict[str, list[list[str]]]:
    return {day: [list(i) for i in intervals] if day in days else [] for day in _WEEK}


# Opening hours a sector usually keeps; the user adjusts them on the agent page.
SECTOR_HOURS = {
    "dental": _week(_WEEK[:5], [["09:00", "12:30"], ["14:00", "18:00"]]) | {"sat": [["09:00", "12:30"]]},
    "restaurant": _week(_WEEK, [["12:00", "15:00"], ["19:00", "23:00"]]),
    "beauty": _week(_WEEK[1:6], [["09:30", "19:00"]]),
    "home_services": _week(_WEEK[:6], [["08:00", "19:00"]]),
    "real_estate": _week(_WEEK[:6], [["09:30", "12:30"], ["14:00", "19:00"]]),
    "ecommerce": _week(_WEEK[:5], [["09:00", "18:00"]]),
    "professional_services": _week(_WEEK[:5], [["09:00", "12:30"], ["14:00", "18:30"]]),
    "legal_accounting": _week(_WEEK[:5], [["09:00", "12:30"], ["14:00", "18:30"]]),
    "hotel": _week(_WEEK, [["00:00", "24:00"]]),  # a reception desk, every day
    "car_repair": _week(_WEEK[:5], [["08:00", "12:30"], ["14:00", "18:30"]]) | {"sat": [["08:30", "12:30"]]},
    "fitness": _week(_WEEK[:5], [["06:30", "22:00"]]) | {"sat": [["08:00", "20:00"]], "sun": [["09:00", "14:00"]]},
    "general": _week(_WEEK[:5], [["09:00", "18:00"]]),
}


@dataclass
class BusinessInfo:
    name: str
    description: str = ""
    services: str = ""
    hours: str = ""
    address: str = ""
    phone: str = ""
    website: str = ""
    language: str = "fr"

    def placeholders(self) -> dict[str, str]:
        return {"business_name": self.name, "services": self.services or self.description, "hours": self.hours,
                "address": self.address, "phone": self.phone, "website": self.website}


@dataclass
class Detection:
    sector: str
    confidence: float
    matched: list[str]
    scores: dict[str, float]


@dataclass
class Draft:
    business: BusinessInfo
    detection: Detection
    name: str
    languages: list[str]
    default_language: str
    texts: dict[str, dict[str, str]]
    faq: dict[str, list[dict[str, str]]]
    booking_policy: dict[str, str]
    tools: list[dict[str, str]]
    voices: dict[str, dict[str, str]]
    voice_reason: str
    appointment_minutes: int
    buffer_minutes: int
    business_hours: dict[str, list[list[str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What was read from what the user typed: "hours" ("typed" or "sector"), "prices" ([label, amount] said).
    hours_source: str = "sector"
    prices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ARABIC = re.compile(r"[\u0600-\u06ff]")


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    exact = keyword.endswith("=")  # "رياض=": no suffix ("رياضي" is sporty, not a riad)
    word = normalise(keyword.rstrip("="))
    if _ARABIC.search(word):
        # Arabic and Darija glue clitics to words: و (and), ف (in), ب (with), ل (for), ك (like), ال (the).
        bare = word[2:] if word.startswith("ال") and len(word) > 4 else word
        # …and suffixes (ة, ات, ين, ي…): up to two more letters after the keyword
        suffix = "" if exact else r"\w{0,2}"
        return re.compile(rf"(^|\W)(?:[وفبلك])?(?:ال)?{re.escape(bare)}{suffix}($|\W)")
    return re.compile(rf"(^|\W){re.escape(word)}($|\W)")


_PATTERNS: dict[str, list[tuple[str, str, re.Pattern[str]]]] = {}


def _patterns() -> dict[str, list[tuple[str, str, re.Pattern[str]]]]:
    if not _PATTERNS:
        for code, data in sectors().items():
            _PATTERNS[code] = [(language, keyword, _keyword_pattern(keyword))
                               for language, keywords in data["keywords"].items() for keyword in keywords]
    return _PATTERNS


def detect_sector(info: BusinessInfo) -> Detection:
    """Score every sector by the keywords found in the description; the words that decided are kept."""
    text = normalise(" ".join([info.name, info.description, info.services]))
    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    for code, patterns in _patterns().items():
        for language, keyword, pattern in patterns:
            if pattern.search(text):
                weight = (1.0 if language == info.language else 0.6) * (1.5 if " " in keyword.strip() else 1.0)
                scores[code] = scores.get(code, 0.0) + weight
                if keyword.rstrip("=") not in matched.setdefault(code, []):
                    matched[code].append(keyword.rstrip("="))
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    specific = [(code, score) for code, score in ranked if code != "general"]
    if not specific:
        return Detection("general", 0.0, matched.get("general", []), scores)
    best, top = specific[0]
    second = specific[1][1] if len(specific) > 1 else 0.0
    confidence = round(min(1.0, top / 3) * (top / (top + second)), 2)
    return Detection(best, confidence, matched[best], {code: round(score, 2) for code, score in ranked})


def _fill(text: str, values: dict[str, str]) -> str:
    try:
        return text.format_map({key: value or "…" for key, value in values.items()})
    except (KeyError, ValueError, IndexError):
        return text


def _price_faq(template: dict[str, Any], code: str, prices: str) -> dict[str, str]:
    """The sector's own price question, answered with the prices typed; a generic question if it has none."""
    for item in template["languages"][code]["faq"]:
        if item.get("kind") == "prices":
            question = item["q"]
            break
    else:
        with translation.override(code):
            question = _("What are your prices?")
    with translation.override(code):
        return {"q": question, "a": _("Our prices: %(prices)s.") % {"prices": prices}, "kind": "prices"}


def configure(info: BusinessInfo, *, sector_code: str = "",
              business_hours: dict[str, list[list[str]]] | None = None) -> Draft:
    """The draft agent for `info`: its sector detected from the description (or `sector_code`, chosen by the
    user on the review step), the sector's template filled in every language, the hours and prices typed in the
    description read (they win over the sector's usual ones), tools and voice with their reasons.
    `business_hours` (an agent's stored week, when its sector changes) wins over both."""
    if not info.name.strip():
        raise InvalidInput(_("The business name is required."))
    if info.language not in LANGUAGE_CODES:
        raise InvalidInput(_("Unknown language: choose fr, en, es, ar or ary."))
    if sector_code and sector_code not in sectors():
        raise InvalidInput(_("Unknown sector."))
    detection = detect_sector(info)
    if sector_code and sector_code != detection.sector:
        detection = Detection(sector_code, 1.0, [], detection.scores)  # the user's choice: no evidence needed
    template = sector(detection.sector)
    usual = SECTOR_HOURS.get(detection.sector, SECTOR_HOURS["general"])
    open_days = [day for day, intervals in usual.items() if intervals]
    week = business_hours or hours_read(info.hours, open_days=open_days) \
        or hours_read(info.description, open_days=open_days) or hours_read(info.services, open_days=open_days)
    prices = prices_read("\n".join([info.services, info.description]))
    values = info.placeholders()
    languages = [info.language] + [code for code in LANGUAGE_CODES if code != info.language]
    texts, faq, policy = {}, {}, {}
    for code in languages:
        block = template["languages"][code]
        local = dict(values)
        if week and (business_hours or not (code == info.language and info.hours.strip())):  # said in `code`
            local["hours"] = hours_say(week, code)
        texts[code] = {key: _fill(block[key], local) for key in ("instructions", "greeting", "closing")}
        faq[code] = [{"q": _fill(item["q"], local), "a": _fill(item["a"], local)} for item in block["faq"]
                     if not (prices and item.get("kind") == "prices")]
        if prices:
            faq[code].insert(0, _price_faq(template, code, prices_say(prices, code)))
        policy[code] = _fill(block["booking_policy"], local)
    tools = [{"name": name, "reason": template["tool_reasons"].get(name, {}).get(info.language, "")}
             for name in template["recommended_tools"]]
    voice = template["voice"]
    voices = {code: {"voice": OFFLINE_VOICES[code], "style": voice["style"], "pace": voice["pace"]}
              for code in languages}
    warnings = []
    if detection.confidence < 0.4:
        warnings.append(_("The sector is uncertain: check it before saving."))
    for key, label in (("hours", _("opening hours")), ("address", _("address")), ("phone", _("phone"))):
        if not values[key] and not (key == "hours" and week):
            warnings.append(_("No %(field)s given: the agent will say it does not know.") % {"field": label})
    return Draft(business=info, detection=detection, name=info.name, languages=languages,
                 default_language=info.language, texts=texts, faq=faq, booking_policy=policy, tools=tools,
                 voices=voices, voice_reason=voice["reason"].get(info.language, ""),
                 appointment_minutes=int(template.get("appointment_minutes", 30)),
                 buffer_minutes=int(template.get("buffer_minutes", 10)),
                 business_hours=week or usual, warnings=warnings, hours_source="typed" if week else "sector",
                 prices=[price.say() for price in prices])


def faq_rows(faq: list[dict[str, str]], policy: str) -> list[dict[str, str]]:
    """A language's starter FAQ and booking policy as knowledge documents (title and text)."""
    rows = [{"title": item["q"][:200], "text": f"{item['q']}\n{item['a']}"} for item in faq]
    rows.append({"title": _("Booking policy"), "text": policy})
    return rows


def sector_defaults(*, code: str, agent: Agent) -> Draft:
    """What the sector `code` would give this agent: its template filled with the agent's business information and
    its opening hours as stored (the dashboard's, not the sector's usual ones)."""
    business = agent.business or {}
    info = BusinessInfo(name=str(business.get("business_name") or agent.name), language=agent.default_language,
                        description=str(business.get("description") or ""),
                        services=str(business.get("services") or ""), hours=str(business.get("hours") or ""),
                        address=str(business.get("address") or ""), phone=str(business.get("phone") or ""),
                        website=str(business.get("website") or ""))
    week = {day: [list(pair) for pair in (agent.business_hours or {}).get(day) or []] for day in WEEK}
    return configure(info, sector_code=code, business_hours=week if any(week.values()) else None)


def agent_create_from_draft(*, draft: Draft, name: str = "", tools: list[str] | None = None,
                            languages: list[str] | None = None, with_faq: bool = True) -> Agent:
    """Save a reviewed draft as an agent (and its FAQ as knowledge documents). In the client's schema."""
    from apps.knowledge.services import documents_import

    chosen_languages = [code for code in (languages or draft.languages) if code in LANGUAGE_CODES]
    if not chosen_languages:
        raise InvalidInput(_("Choose at least one language."))
    default = draft.default_language if draft.default_language in chosen_languages else chosen_languages[0]
    agent = Agent.objects.create(
        name=(name or draft.name)[:80], sector=draft.detection.sector, languages=chosen_languages,
        default_language=default, texts={code: draft.texts[code] for code in chosen_languages},
        voices={code: draft.voices[code] for code in chosen_languages},
        business=draft.business.placeholders() | {"description": draft.business.description},
        tools=tools if tools is not None else [tool["name"] for tool in draft.tools],
        appointment_minutes=draft.appointment_minutes, buffer_minutes=draft.buffer_minutes,
        **({"business_hours": draft.business_hours} if draft.business_hours else {}))
    if with_faq:
        for code in chosen_languages:  # its FAQ is this agent's alone
            documents_import(rows=faq_rows(draft.faq[code], draft.booking_policy[code]), language=code,
                             agents=[agent])
    return agent
