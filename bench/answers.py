"""Answer quality of the agent, through the widget's HTTP API (issue 10).

    .venv/bin/python bench/answers.py [--split all|dev|heldout|fresh|fresh2|fresh3|fresh4|dev_quality]
        [--provider builtin|openai_compatible] [-v]

Three throw-away clients of different sectors (bench/data/answers/: a riad, a hair salon, a car repair
shop), each with its own documents written by hand in fr, en, es, ar and ary (Darija in Arabic script),
and a daphne serving the widget API; the widget opens the client's one agent, whatever the page's
language. Each question (48 a language: paraphrases, typos, a greeting first, another language than the
page, questions the documents cannot answer) is labelled with the fact its reply must hold, or with none
when the documents cannot answer it (the agent must say it does not know).
A reply counts as correct when it holds the fact and is written in the question's script (an Arabic
question answered with French passages is not); as wrong when it is neither correct nor an honest
"I don't know". Booking: six phrasings a language (days and times in digits and in words, a date in
words), then the name and phone in one message and, when offered times, the first; a success is a booking
card at the day and time asked for.

The held-out half (every second question and phrasing of each list) is not looked at when tuning the
built-in engine: `--split dev` / `--split heldout` measure one half; the readable lines show both.
`--split fresh` measures a second held-out set instead (data/answers/fresh.json: 8 questions a business and
language, 3 booking phrasings a language), written before a tuning round and not tuned on; `--split fresh2`
a third one (data/answers/fresh2.json, 5 questions a business and language, 2 phrasings), written after.
Both have since been tuned on. `--split fresh3` and `--split fresh4` (data/answers/fresh3.json, fresh4.json: 8
questions a business and language, at least 2 of them unanswerable, and 3 phrasings a language each) were
written on 2026-12-02 before that day's tuning round, without reading the engine: fresh3 gives the "before"
figure of that round, fresh4 is kept unmeasured until the end of the round.
`--split dev_quality` the quality round's own development examples (data/answers/dev_quality.json, tuned on).
With `--provider openai_compatible`, the agents use a language model: BENCH_LLM_API_KEY (or
OPENAI_API_KEY), BENCH_LLM_MODEL (default gpt-4o-mini) and BENCH_LLM_BASE_URL (default OpenAI's); its
"I don't know" is recognised by the phrases in DONT_KNOW_CUES.

Last line: {"accuracy": {…}, "wrong": {…}, "honest_miss": {…}, "booking": {…}, "p99_ms": …}
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import _setup  # noqa: F401
from _clients import bench_client
from _setup import emit, percentile
from cryptography.fernet import Fernet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context
from widget import ORIGIN, free_port

from apps.agents.models import WEEKDAYS, Agent
from apps.agents.tools import TOOLS
from apps.bookings.models import Appointment
from apps.clients.models import ApiKey
from apps.knowledge.services import documents_import
from apps.widget.services import widget_origins_set
from scripts.web import listen, start_daphne

LANGUAGES = ["fr", "en", "es", "ar", "ary"]
# Further question sets measured on their own (data/answers/<name>.json); dev_quality: the quality round's own
# development examples (synonyms, parts of the day, counts, abbreviations), not a held-out set.
FILE_SPLITS = ("fresh", "fresh2", "fresh3", "fresh4", "dev_quality")
DATA = Path(__file__).resolve().parent / "data" / "answers"
BUSINESSES = ["riad", "salon", "garage"]
ARABIC = re.compile(r"[\u0600-\u06ff]")
LATIN = re.compile(r"[A-Za-zÀ-ÿ]")
# A language model's own ways of saying it does not know (the built-in engine's sentences are matched exactly).
DONT_KNOW_CUES = {
    "fr": ["je n'ai pas", "je ne dispose pas", "je ne sais pas", "pas d'information", "aucune information"],
    "en": ["i don't have", "i do not have", "i don't know", "no information", "not sure"],
    "es": ["no tengo", "no dispongo", "no sé", "no hay información"],
    "ar": ["ليس لدي", "لا أملك", "لا تتوفر", "لا أعرف", "لا توجد لدي"],
    "ary": ["ما عنديش", "ماعنديش", "ماعرفتش", "ما عرفتش", "ليس لدي", "ما كايناش"],
}


def dont_know(language: str) -> list[str]:
    with translation.override(language):
        return [_("I don't have that information. I can put you in touch with our team, arrange a callback "
                  "or take a message: what would you prefer?"),
                _("I don't have that information. I can put you in touch with our team or take a message: "
                  "what would you prefer?"),
                _("I don't have that information. Would you like me to put you in touch with our team?"),
                _("I don't have that information, sorry.")]


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def in_script(reply: str, language: str) -> bool:
    """The reply is written in the question's script (what it quotes aside: names, figures)."""
    arabic, latin = len(ARABIC.findall(reply)), len(LATIN.findall(reply))
    return arabic > latin if language in {"ar", "ary"} else arabic == 0


def in_split(index: int, split: str) -> bool:
    return split == "all" or split in FILE_SPLITS or (index % 2 == 1) == (split == "heldout")


def half_of(index: int, split: str) -> str:
    return split if split in FILE_SPLITS else "heldout" if index % 2 else "dev"


def load() -> tuple[dict[str, Any], dict[str, Any]]:
    businesses = {name: json.loads((DATA / f"{name}.json").read_text(encoding="utf-8")) for name in BUSINESSES}
    return businesses, json.loads((DATA / "bookings.json").read_text(encoding="utf-8"))


def booking_message(template: str, language: str, bookings: dict[str, Any], today: date) -> str:
    day = today + timedelta(days=bookings["date_offset"])
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day.day if day.day < 20 else day.day % 10, "th")
    words = bookings["date_format"][language].format(day=day.day, suffix=suffix,
                                                     month=bookings["date_words"][language][day.month - 1])
    return template.replace("{date}", words)


def expected_day(spec: str, today: date, offset: int) -> date:
    if spec.startswith("+"):
        return today + timedelta(days=int(spec[1:]))
    if spec.startswith("wd:"):
        return today + timedelta(days=(int(spec[3:]) - today.weekday()) % 7 or 7)
    return today + timedelta(days=offset)


def booked_as_asked(start: str, day: date, at: str | None) -> bool:
    moment = datetime.fromisoformat(start)
    if moment.date() != day:
        return False
    if at == "morning":
        return moment.hour < 12
    if at == "afternoon":
        return moment.hour >= 12
    return at is None or moment.strftime("%H:%M") == at


def agent_fields(provider: str) -> dict[str, Any]:
    if provider == "builtin":
        return {}
    key = os.environ.get("BENCH_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY")
    if not key:
        sys.exit("--provider openai_compatible needs BENCH_LLM_API_KEY (or OPENAI_API_KEY) in the environment")
    return {"provider": provider, "api_key": key, "model": os.environ.get("BENCH_LLM_MODEL", "gpt-4o-mini"),
            "base_url": os.environ.get("BENCH_LLM_BASE_URL", "")}


def share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def figures_of(rows: dict[str, dict[str, int]], samples: list[float]) -> dict[str, Any]:
    return {"accuracy": {lang: share(r["correct"], r["answerable"]) for lang, r in rows.items()},
            "wrong": {lang: share(r["wrong"], r["asked"]) for lang, r in rows.items()},
            "honest_miss": {lang: share(r["honest"], r["unanswerable"]) for lang, r in rows.items()},
            "booking": {lang: share(r["booked"], r["bookings"]) for lang, r in rows.items()},
            "p99_ms": round(percentile(samples, 99), 1) if samples else 0.0}


def main() -> None:  # noqa: C901 - one readable script
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["all", "dev", "heldout", *FILE_SPLITS], default="all")
    parser.add_argument("--provider", choices=["builtin", "openai_compatible"], default="builtin")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every reply, not only the misses")
    args = parser.parse_args()
    businesses, bookings = load()
    if args.split in FILE_SPLITS:  # a further held-out set (data/answers/fresh*.json), measured on its own
        fresh = json.loads((DATA / f"{args.split}.json").read_text(encoding="utf-8"))
        for business, data in businesses.items():
            data["questions"] = fresh["questions"][business]
        bookings = bookings | {"phrasings": fresh["phrasings"]}
    extra = agent_fields(args.provider)
    import httpx

    counters = ("asked", "answerable", "correct", "wrong", "unanswerable", "honest", "bookings", "booked")
    halves = (args.split,) if args.split in FILE_SPLITS else ("dev", "heldout")
    results = {half: {lang: dict.fromkeys(counters, 0) for lang in LANGUAGES} for half in halves}
    samples: list[float] = []
    failures: list[str] = []
    with contextlib.ExitStack() as stack:
        keys: dict[str, str] = {}
        zones: dict[str, ZoneInfo] = {}
        clients: dict[str, Any] = {}
        for business, data in businesses.items():
            client = stack.enter_context(bench_client(f"bench-answers-{business}"))
            widget_origins_set(client=client, origins=[ORIGIN])
            zones[business], clients[business] = ZoneInfo(client.timezone), client
            with tenant_context(client):
                Agent.objects.create(name=data["name"], languages=LANGUAGES, default_language="fr", tools=list(TOOLS),
                                     handover_phone="+212500000000", business={"business_name": data["name"]},
                                     business_hours={day: [["08:00", "21:00"]] for day in WEEKDAYS}, **extra)
                for language, documents in data["documents"].items():
                    documents_import(rows=[{"title": title, "text": text} for title, text in documents],
                                     language=language)
            keys[business] = ApiKey.objects.get(client=client, kind=ApiKey.Kind.PUBLISHABLE,
                                                revoked_at__isnull=True).lookup
        port = free_port()
        env = dict(os.environ, WIDGET_VISITOR_MESSAGES_PER_MINUTE="100000000", LOG_LEVEL="WARNING",
                   DJANGO_SETTINGS_MODULE="vocalia.settings", DEBUG="false", SECRET_KEY="bench-" + "x" * 50,
                   FIELD_ENCRYPTION_KEY=os.environ.get("FIELD_ENCRYPTION_KEY") or Fernet.generate_key().decode(),
                   ALLOWED_HOSTS="127.0.0.1,localhost")
        listening = listen("127.0.0.1", port)
        servers = start_daphne(listening, 1, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(listening.close)
        stack.callback(lambda: [server.terminate() for server in servers])
        base = f"http://127.0.0.1:{port}"
        for _attempt in range(300):
            try:
                httpx.get(base + "/widget/v1/config", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=60) as http:
            def open_conversation(key: str, language: str) -> dict[str, str]:
                headers = {"X-Vocalia-Key": key, "Origin": ORIGIN, "Accept": "application/json"}
                response = http.post("/widget/v1/conversations", json={"language": language, "visitor": "bench"},
                                     headers=headers)
                response.raise_for_status()
                return headers | {"X-Vocalia-Token": response.json()["token"]}

            def ask(headers: dict[str, str], text: str) -> dict[str, Any]:
                started = time.perf_counter()
                response = http.post("/widget/v1/messages", json={"text": text}, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                return response.json()

            for business, data in businesses.items():
                for page, questions in data["questions"].items():
                    for index, (question, fact, *written_in) in enumerate(questions):
                        if not in_split(index, args.split):
                            continue
                        language = written_in[0] if written_in else page
                        row = results[half_of(index, args.split)][language]
                        reply = _flat(str(ask(open_conversation(keys[business], page), question).get("reply", "")))
                        lowered = reply.lower()
                        honest = any(_flat(miss) in reply for miss in dont_know(language)) or (
                            args.provider != "builtin" and any(cue in lowered for cue in DONT_KNOW_CUES[language]))
                        row["asked"] += 1
                        if fact is None:
                            row["unanswerable"] += 1
                            row["honest"] += honest
                            row["wrong"] += not honest
                            verdict = "honest" if honest else "WRONG"
                        else:
                            row["answerable"] += 1
                            correct = _flat(fact).lower() in lowered and in_script(reply, language)
                            row["correct"] += correct
                            row["wrong"] += not correct and not honest
                            verdict = "ok" if correct else "miss" if honest else "WRONG"
                        line = f"{verdict:6} {business}/{page}>{language} {question!r} [{fact}] -> {reply[:160]!r}"
                        if verdict not in {"ok", "honest"}:
                            failures.append(line)
                        elif args.verbose:
                            print(line)
                today = timezone.now().astimezone(zones[business]).date()
                for language, phrasings in bookings["phrasings"].items():
                    for index, (template, day_spec, at) in enumerate(phrasings):
                        if not in_split(index, args.split):
                            continue
                        row = results[half_of(index, args.split)][language]
                        message = booking_message(template, language, bookings, today)
                        headers = open_conversation(keys[business], language)
                        turns = [ask(headers, message)]
                        card = None
                        for follow_up in [bookings["contact"], bookings["first"][language], bookings["contact"]]:
                            card = next((e for e in turns[-1].get("events", []) if e.get("type") == "booking"), None)
                            if card:
                                break
                            turns.append(ask(headers, follow_up))
                        card = card or next((e for e in turns[-1].get("events", []) if e.get("type") == "booking"),
                                            None)
                        want = expected_day(day_spec, today, bookings["date_offset"])
                        ok = bool(card) and booked_as_asked(card["start"], want, at)
                        row["bookings"] += 1
                        row["booked"] += ok
                        line = (f"{'ok' if ok else 'FAILED':6} {business}/{language} booking {message!r} "
                                f"(want {want} {at}) -> {[str(t.get('reply', ''))[:90] for t in turns]!r}")
                        with tenant_context(clients[business]):  # each phrasing finds the calendar empty
                            Appointment.objects.all().delete()
                        if not ok:
                            failures.append(line)
                        elif args.verbose:
                            print(line)

    for failure in failures:
        print(failure)
    for half in halves:
        figures = figures_of(results[half], samples)
        for lang, r in results[half].items():
            if r["asked"] or r["bookings"]:
                print(f"{half:8} {lang:3}: {r['asked']:3} questions, accuracy {figures['accuracy'][lang]:.3f}, "
                      f"wrong {figures['wrong'][lang]:.3f}, honest miss {figures['honest_miss'][lang]:.3f}, "
                      f"booking {r['booked']}/{r['bookings']}")
    together = {lang: {key: sum(results[half][lang][key] for half in halves) for key in counters}
                for lang in LANGUAGES}
    print(f"{len(samples)} messages through the widget API ({args.provider}, split {args.split}): "
          f"p50 {percentile(samples, 50):.1f} ms, p99 {percentile(samples, 99):.1f} ms")
    emit(figures_of(together, samples))


if __name__ == "__main__":
    main()
