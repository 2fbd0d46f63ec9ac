"""Reading what a business typed about itself: opening hours and prices, in fr, en, es, ar and Darija.

`hours_read("mardi–samedi 10h–20h, dimanche 10h–14h, fermé lundi")` gives the week the agent books in
({"tue": [["10:00", "20:00"]], …, "mon": []}); `prices_read("coupe 25€, brushing 20 €")` the price list the
generated FAQ quotes. Both read plain text with no network and no model: a stream of tokens (days, times,
range words, "closed", "every day", "24/7") walked once. What they cannot read they leave out (None / []), and
the configurator keeps the sector's defaults.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Week = dict[str, list[list[str]]]

# Day names after `_fold` (lower case, no Latin accents, Arabic letters unified).
_DAYS = {
    "mon": ["lundi", "lundis", "monday", "mondays", "lunes", "الاثنين", "الإثنين", "اثنين", "الاتنين", "التنين",
            "لتنين", "الثنين", "ثنين"],
    "tue": ["mardi", "mardis", "tuesday", "tuesdays", "martes", "الثلاثاء", "الثلاثا", "الثلات", "الثلاث", "التلات",
            "ثلاثاء", "ثلاثا", "الثلاتاء"],
    "wed": ["mercredi", "mercredis", "wednesday", "wednesdays", "miercoles", "الأربعاء", "الاربعاء", "الاربعا",
            "لاربع", "الاربع", "اربعاء", "اربعا", "لربع"],
    "thu": ["jeudi", "jeudis", "thursday", "thursdays", "jueves", "الخميس", "لخميس", "خميس"],
    "fri": ["vendredi", "vendredis", "friday", "fridays", "viernes", "الجمعة", "الجمعه", "جمعة", "جمعه", "لجمعة",
            "لجمعه"],
    "sat": ["samedi", "samedis", "saturday", "saturdays", "sabado", "sabados", "السبت", "سبت", "لسبت"],
    "sun": ["dimanche", "dimanches", "sunday", "sundays", "domingo", "domingos", "الأحد", "الاحد", "احد", "الحد",
            "لحد"],
}
# Short forms count only next to another day, a range word or a time ("mer" is also the sea).
_SHORT = {
    "mon": ["lun", "mon"], "tue": ["mar", "tue", "tues"], "wed": ["mer", "wed", "mie"],
    "thu": ["jeu", "thu", "thur", "thurs", "jue"], "fri": ["ven", "fri", "vie"], "sat": ["sam", "sat", "sab"],
    "sun": ["dim", "sun", "dom"],
}
_RANGE = {"-", "a", "au", "to", "through", "thru", "till", "until", "til", "hasta", "al", "إلى", "الى", "حتى", "حتا",
          "حتال", "ل", "jusqu", "jusqua", "et"}  # "et" only between two times of one interval: see _interval
_CLOSED = {"ferme", "fermee", "fermes", "fermees", "fermeture", "closed", "close", "cerrado", "cerrada", "cerrados",
           "cerramos", "مغلق", "مغلقة", "مغلقون", "مسدود", "مسدودة", "سادين", "سادّين", "عطلة", "repos", "off"}
_EVERY_DAY = [r"tous les jours", r"toute la semaine", r"7\s*j\s*/\s*7", r"7\s*/\s*7", r"7 jours sur 7",
              r"every ?day", r"daily", r"7 days a week", r"all week", r"todos los dias", r"toda la semana",
              r"كل يوم", r"كل الايام", r"كل ايام الاسبوع", r"طيلة ايام الاسبوع", r"طوال ايام الاسبوع", r"طول الاسبوع",
              r"كل نهار", r"ڭاع الايام", r"كاع الايام", r"جميع ايام الاسبوع"]
_WEEKDAYS = [r"en semaine", r"weekdays", r"entre semana", r"dias laborables", r"ايام العمل"]
_WEEKEND = [r"le week-?end", r"weekends?", r"fin de semana", r"فيكاند", r"عطلة نهاية الاسبوع", r"نهاية الاسبوع"]
_ALWAYS = [r"24\s*h?\s*/\s*24\s*h?(?:\s*,?\s*7\s*j?\s*/\s*7)?", r"24\s*/\s*7", r"24\s*h(?:eures)? sur 24",
           r"24 hours a day", r"round the clock", r"around the clock", r"non-?stop", r"24 horas", r"24 ساعة",
           r"على مدار الساعة"]
_MORNING = {"am", "matin", "manana", "صباحا", "صباح", "الصباح", "فالصباح"}
_EVENING = {"pm", "soir", "apres-midi", "aprem", "tarde", "noche", "مساء", "مساءا", "المساء", "العشية", "فالعشية",
            "ليلا", "الليل", "فالليل", "evening"}
_NOON = {"midi": 12, "noon": 12, "mediodia": 12, "minuit": 24, "midnight": 24, "medianoche": 24, "الظهر": 12,
         "منتصف الليل": 24}
_OPEN_WORDS = {"ouvert", "ouverte", "ouverts", "horaires", "horaire", "open", "opens", "hours", "abierto", "abiertos",
               "abrimos", "horario", "horarios", "مفتوح", "مفتوحة", "نفتح", "ساعات", "اوقات", "اوقاتنا", "محلول",
               "محلولين", "كنحلو", "الاوقات", "التوقيت", "ouvrons", "accueil", "reception"}
_PREFIX_AR = ("و", "ف", "ب", "ل")

_DAY_OF = {name: day for day, names in _DAYS.items() for name in names}
_SHORT_OF = {name: day for day, names in _SHORT.items() for name in names}
_TIME = re.compile(r"(\d{1,2})(?:\s*(?:h|:|\.)\s*(\d{2})|\s*(h)(?![a-z]))?(?:\s*(a\.?m\.?|p\.?m\.?)(?![a-z]))?")
_TOKEN = re.compile(r"(?P<always>@ALWAYS@)|(?P<every>@EVERY@)|(?P<weekdays>@WEEKDAYS@)|(?P<weekend>@WEEKEND@)"
                    r"|(?P<time>\d{1,2}(?:\s*(?:h|:|\.)\s*\d{2}|\s*h(?![a-z]))?(?:\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z]))?)"
                    r"|(?P<sep>[,;\n|]|\.(?!\d)|\s/\s)|(?P<dash>-)|(?P<word>[^\W\d_]+(?:'[^\W\d_]+)?)")


def _fold(text: str) -> str:
    """Lower case, no Latin accents, Western digits, one form of each Arabic letter, one kind of dash."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789"))
    text = re.sub(r"[\u064b-\u0652\u0640]", "", text)  # harakat and tatweel
    text = text.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "گ": "ڭ"}))
    text = unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", text)
                                                if not ("\u0300" <= c <= "\u036f")))
    return re.sub(r"[\u2010-\u2015\u2212~]", "-", text).replace("’", "'")


def _folded_set(words: set[str]) -> set[str]:
    return {_fold(word) for word in words}


_DAY_OF = {_fold(name): day for name, day in _DAY_OF.items()}
_CLOSED_F, _OPEN_F = _folded_set(_CLOSED), _folded_set(_OPEN_WORDS)
_MORNING_F, _EVENING_F = _folded_set(_MORNING), _folded_set(_EVENING)
_RANGE_F = _folded_set(_RANGE)
_NOON_F = {_fold(word): hour for word, hour in _NOON.items()}


def _mark(text: str) -> str:
    for patterns, mark in ((_ALWAYS, "@ALWAYS@"), (_EVERY_DAY, "@EVERY@"), (_WEEKDAYS, "@WEEKDAYS@"),
                           (_WEEKEND, "@WEEKEND@")):
        for pattern in patterns:
            text = re.sub(rf"(?<!\w){_fold(pattern)}(?!\w)", f" {mark} ", text)
    for word, hour in sorted(_NOON_F.items(), key=lambda item: -len(item[0])):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", f" {hour}h ", text)
    return text


@dataclass
class _Token:
    kind: str  # day, short, time, range, closed, open, every, weekdays, weekend, always, sep, am, pm, other
    value: object = None


def _day_word(word: str) -> tuple[str, str] | None:
    if word in _DAY_OF:
        return "day", _DAY_OF[word]
    for prefix in _PREFIX_AR:  # والسبت, فالحد: "and", "on" glued to the day
        if word.startswith(prefix) and word[1:] in _DAY_OF:
            return "day", _DAY_OF[word[1:]]
    if word.rstrip(".") in _SHORT_OF:
        return "short", _SHORT_OF[word.rstrip(".")]
    return None


def _time_value(text: str) -> tuple[int, int, str, bool] | None:
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    suffix = (match[4] or "").replace(".", "")
    explicit = bool(match[2] or match[3] or suffix)
    if hour > 24 or minute > 59 or (suffix and not 1 <= hour <= 12):
        return None
    return hour, minute, suffix, explicit


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(_mark(_fold(text))):
        kind = match.lastgroup or "other"
        raw = match.group()
        if kind == "time":
            value = _time_value(raw)
            tokens.append(_Token("time", value) if value else _Token("other"))
        elif kind == "dash":
            tokens.append(_Token("range"))
        elif kind == "word":
            word = raw.strip("'")
            day = _day_word(word)
            if day:
                tokens.append(_Token(*day))
            elif word in _RANGE_F:
                tokens.append(_Token("range", word))
            elif word in _CLOSED_F:
                tokens.append(_Token("closed"))
            elif word in _OPEN_F:
                tokens.append(_Token("open"))
            elif word in _MORNING_F:
                tokens.append(_Token("am"))
            elif word in _EVENING_F:
                tokens.append(_Token("pm"))
            elif word.startswith("jusqu"):
                tokens.append(_Token("range", "jusqu"))
            else:
                tokens.append(_Token("other", word))
        else:
            tokens.append(_Token(kind))
    # a short day form is a day only beside a day, a range word or a time
    for index, token in enumerate(tokens):
        if token.kind == "short":
            near = [tokens[i].kind for i in (index - 1, index + 1) if 0 <= i < len(tokens)]
            token.kind = "day" if {"day", "short", "range", "time"} & set(near) else "other"
    return tokens


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _interval(start: tuple[int, int, str, bool], end: tuple[int, int, str, bool]) -> list[str] | None:
    (h1, m1, s1, _e1), (h2, m2, s2, _e2) = start, end
    if s2 == "pm" and h2 < 12:
        h2 += 12
    elif s2 == "am" and h2 == 12:
        h2 = 24
    if s1 == "pm" and h1 < 12:
        h1 += 12
    elif s1 == "am" and h1 == 12:
        h1 = 0
    elif not s1 and s2 == "pm" and h1 < 12 and h1 + 12 <= h2:  # "2-6pm": both in the afternoon
        h1 += 12
    if (h2, m2) <= (h1, m1) and h2 < 12 and not s2:  # "9-6", "10h-2h": the end is in the afternoon
        h2 += 12
    if not (0 <= h1 < 24 and 0 <= h2 <= 24) or (h2 == 24 and m2) or (h2, m2) <= (h1, m1):
        return None
    return [_clock(h1, m1), _clock(h2, m2)]


def _days_between(first: str, last: str) -> list[str]:
    start, end = WEEK.index(first), WEEK.index(last)
    return [WEEK[(start + step) % 7] for step in range((end - start) % 7 + 1)]


class _Group:
    def __init__(self) -> None:
        self.days: list[str] = []
        self.intervals: list[list[str]] = []
        self.closed = False
        self.opening = False  # an "open / hours" word: times with no day name then count
        self.times_first = False  # "9am-6pm Monday to Friday": the next time starts another group

    def complete(self) -> bool:
        return bool(self.days) and (bool(self.intervals) or self.closed)

    def add_days(self, days: list[str]) -> None:
        if self.intervals and not self.days:
            self.times_first = True
        self.days += [day for day in days if day not in self.days]


_ARTICLES = {"le", "les", "el", "los", "the", "on", "يوم", "نهار", "ايام"}
_AND = {"et", "and", "y", "و"}
_FILLERS = {"du", "de", "la", "in", "the", "د", "ديال", "في", "ف", "dans", "of"}


def _day_span(tokens: list[_Token], index: int) -> tuple[list[str], int]:
    """The days named at `index` ("lundi", "lundi au vendredi", "Mon-Fri", "من الاثنين إلى الجمعة") and the
    index after them."""
    first = str(tokens[index].value)
    after = index + 1
    while after < len(tokens) and tokens[after].kind == "other" and tokens[after].value in _ARTICLES:
        after += 1
    if after < len(tokens) and tokens[after].kind == "range" and tokens[after].value != "et":
        last = after + 1
        while last < len(tokens) and tokens[last].kind == "other" and tokens[last].value in _ARTICLES:
            last += 1
        if last < len(tokens) and tokens[last].kind == "day":
            return _days_between(first, str(tokens[last].value)), last + 1
    return [first], index + 1


def _suffix(tokens: list[_Token], index: int) -> tuple[str, int]:
    """An "am/pm" word at `index`, maybe after a filler ("8 du soir", "7 د العشية"): its kind and the next index."""
    cursor = index
    while cursor < len(tokens) and cursor - index < 2 and tokens[cursor].kind == "other" \
            and tokens[cursor].value in _FILLERS:
        cursor += 1
    if cursor < len(tokens) and tokens[cursor].kind in {"am", "pm"}:
        return tokens[cursor].kind, cursor + 1
    return "", index


def hours_read(text: str, *, open_days: list[str] | None = None) -> Week | None:
    """The week typed in `text`, or None when it names no hours. Days it does not name are closed once any day
    gets hours; hours given with no day ("open 9am-6pm") apply to the days not named, or to `open_days` (the
    sector's usual days) when no day is named at all."""
    if not text or not text.strip():
        return None
    tokens = _tokens(text[:4000])
    week: Week = {}
    undated: list[list[str]] = []
    group = _Group()
    last_kind = ""

    def flush() -> None:
        nonlocal group
        if group.days and group.intervals:
            for day in group.days:
                week[day] = [list(pair) for pair in group.intervals]
        elif group.days and group.closed:
            for day in group.days:
                week[day] = []
        elif group.intervals and group.opening and not group.days:
            undated.extend(group.intervals)
        group = _Group()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.kind
        if kind in {"day", "every", "weekdays", "weekend"}:
            if group.complete() and not (last_kind == "day" and group.closed and not group.intervals):
                flush()
            if kind == "day":
                days, index = _day_span(tokens, index)
            else:
                days = {"every": WEEK, "weekdays": WEEK[:5], "weekend": WEEK[5:]}[kind]
                index += 1
            group.add_days(days)
            last_kind = "day"
            continue
        if kind == "always":  # 24/7: every day, all day (or the days named beside it)
            if group.complete():
                flush()
            group.intervals, group.opening = [["00:00", "24:00"]], True
            if not group.days:
                group.add_days(WEEK)
            last_kind = "time"
            index += 1
            continue
        if kind == "time":
            start = token.value
            suffix, cursor = _suffix(tokens, index + 1)
            if cursor + 1 < len(tokens) and tokens[cursor].kind == "range" and tokens[cursor + 1].kind == "time":
                end = tokens[cursor + 1].value
                end_suffix, following = _suffix(tokens, cursor + 2)
                assert isinstance(start, tuple) and isinstance(end, tuple)
                if start[3] or end[3] or suffix or end_suffix or group.days or group.opening:
                    if suffix:
                        start = (start[0], start[1], suffix, True)
                    if end_suffix and not end[2]:
                        end = (end[0], end[1], end_suffix, True)
                    pair = _interval(start, end)
                    if pair:
                        if (group.days and group.closed and not group.intervals) or \
                                (group.times_first and group.days):
                            flush()
                        group.intervals.append(pair)
                        last_kind = "time"
                    index = following
                    continue
            index += 1
            continue
        if kind == "closed":
            if group.intervals:
                flush()
            group.closed = True
            last_kind = "closed"
        elif kind == "open":
            group.opening = True
        elif kind == "sep":
            last_kind = "sep"
        elif kind == "other" and token.value in _AND:
            pass  # "lundi et mardi": the days stay together
        elif kind in {"other", "range"}:
            if last_kind == "day" and kind == "other":
                last_kind = "word"
        index += 1
    flush()
    if not week and not undated:
        return None
    result: Week = {}
    for day in WEEK:
        if day in week:
            result[day] = week[day]
        elif undated and (week or day in (open_days or WEEK)):
            result[day] = [list(pair) for pair in undated]
        else:
            result[day] = []
    return {day: _merge(intervals) for day, intervals in result.items()}


def _merge(intervals: list[list[str]]) -> list[list[str]]:
    merged: list[list[str]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


# --- saying the week back, in a language ----------------------------------------------------------------------

def _day_names() -> dict[str, str]:
    return {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
            "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}


def hours_say(week: Week, language: str) -> str:
    """The week in words: "Tuesday–Saturday 10:00–20:00; Sunday 10:00–14:00; Monday closed" in `language`."""
    with translation.override(language):
        names = _day_names()
        if language in {"fr", "es"}:
            names = {day: name.lower() for day, name in names.items()}
        parts: list[str] = []
        runs: list[tuple[list[str], list[list[str]]]] = []
        for day in WEEK:
            intervals = week.get(day) or []
            if runs and runs[-1][1] == intervals:
                runs[-1][0].append(day)
            else:
                runs.append(([day], intervals))
        comma = "، " if language in {"ar", "ary"} else ", "
        runs.sort(key=lambda run: not run[1])  # the open days first, in the week's order; the closed ones last
        for days, intervals in runs:
            label = names[days[0]] if len(days) == 1 else f"{names[days[0]]}–{names[days[-1]]}"
            if not intervals:
                parts.append(_("%(days)s closed") % {"days": label})
            elif intervals == [["00:00", "24:00"]]:
                parts.append(_("%(days)s open 24 hours") % {"days": label})
            else:
                parts.append(f"{label} " + comma.join(f"{start}–{end}" for start, end in intervals))
        return ("؛ " if language in {"ar", "ary"} else "; ").join(parts)


# --- prices ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Price:
    label: str
    amount: str
    currency: str  # as typed: "€", "$", "DH", "درهم", "euros"
    before: bool = False  # "$30": the sign comes first

    def say(self, language: str = "en") -> str:
        colon = " : " if language == "fr" else ": "  # French puts a space before its colon
        return f"{self.label}{colon}{self.currency}{self.amount}" if self.before else \
            f"{self.label}{colon}{self.amount} {self.currency}"


_CURRENCIES = {"€": "€", "eur": "€", "euro": "€", "euros": "€", "$": "$", "usd": "$", "dollars": "$", "dollar": "$",
               "£": "£", "gbp": "£", "dh": "MAD", "dhs": "MAD", "mad": "MAD", "dirham": "MAD", "dirhams": "MAD",
               "درهم": "MAD", "دراهم": "MAD", "د.م": "MAD", "درهما": "MAD", "ريال": "MAD"}
_CURRENCY = (r"(?:€|\$|£|(?<![^\W\d_])eur(?:os?)?\b|(?<![^\W\d_])(?:usd|dollars?|gbp|dhs?|mad|dirhams?)\b"
             r"|درهما|درهم|دراهم|د\.م|ريال)")
_AMOUNT = r"(\d{1,6}(?:[.,]\d{1,2})?)"
_PRICE = re.compile(rf"(?:(?P<pre>{_CURRENCY})\s?{_AMOUNT.replace('(', '(?P<a1>', 1)}"
                    rf"|{_AMOUNT.replace('(', '(?P<a2>', 1)}\s?(?P<post>{_CURRENCY}))", re.IGNORECASE)
_LABEL_NOISE = re.compile(r"^(?:[\s:=\-–—(]|à partir de|a partir de|dès|des|from|desde|starting at|"
                          r"à|at|for|pour|por|le|la|les|el|the|a|un|une|من|ب|بـ|ابتداء من|ابتداءا من)+|"
                          r"(?:[\s:=\-–—(]|à partir de|a partir de|dès|from|desde|starting at|à|at|for|pour|por|"
                          r"من|ابتداء من|ابتداءا من|ب)+$", re.IGNORECASE)


def prices_read(text: str) -> list[Price]:
    """The prices typed in `text` ("coupe 25€", "haircut $30", "تقصيص 50 درهم"), each with the words before it
    (or after it, "25€ la coupe") as its label; at most 20."""
    found: list[Price] = []
    for clause in re.split(r"[,;\n•|،؛]|\.\s|\s\+\s|\s(?:et|and|y|و)\s", text[:4000]):
        for match in _PRICE.finditer(clause):
            amount = (match["a1"] or match["a2"]).replace(",", ".")
            if amount.endswith(".00"):
                amount = amount[:-3]
            typed = (match["pre"] or match["post"]).strip()
            currency = typed if _CURRENCIES.get(typed.lower().rstrip(".")) else ""
            before = clause[:match.start()]
            label = _LABEL_NOISE.sub("", before.strip()).strip()
            words = label.split()
            label = " ".join(words[-5:])
            if not label:
                label = _LABEL_NOISE.sub("", clause[match.end():].strip()).strip()
                label = " ".join(label.split()[:5])
            label = label.strip(" :–-").strip()
            if label and currency and not re.fullmatch(r"[\d\s.,]+", label):
                found.append(Price(label=label[:1].upper() + label[1:80], amount=amount, currency=currency,
                                   before=bool(match["pre"])))
    unique: list[Price] = []
    for price in found:
        if price not in unique:
            unique.append(price)
    return unique[:20]


def prices_say(prices: list[Price], language: str) -> str:
    return ("؛ " if language in {"ar", "ary"} else "; ").join(price.say(language) for price in prices)
