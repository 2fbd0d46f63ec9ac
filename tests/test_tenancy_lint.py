"""Zulip-style lint: entry points never fetch client data by a bare id from the request.

An entry point is any module under apps/ that answers the outside world: by name (views, api,
consumers, tasks, admin) or by what it contains (a Channels consumer, a Celery task, a DRF view,
a function taking an HttpRequest) — so `apps/widget/voice.py` and `apps/widget/dashboard.py`
are read too, whatever they are called.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_NAMES = {"views.py", "api.py", "consumers.py", "tasks.py", "admin.py"}
ENTRY_MARKERS = re.compile(r"WebsocketConsumer\b|AsyncConsumer\b|@shared_task|\bAPIView\b|request: HttpRequest"
                           r"|\bdef (get|post|put|patch|delete)\(self, request")
BARE_LOOKUP = re.compile(r"\.objects\.(get|filter)\((pk|id)=\w+\)")


def entry_points() -> list[Path]:
    found = []
    for path in sorted((ROOT / "apps").rglob("*.py")):
        if "migrations" in path.parts or "tests" in path.parts:
            continue
        if path.name in ENTRY_NAMES or ENTRY_MARKERS.search(path.read_text(encoding="utf-8")):
            found.append(path)
    return found


def test_it_reads_every_entry_point():
    names = {str(path.relative_to(ROOT)) for path in entry_points()}
    assert {"apps/widget/voice.py", "apps/widget/dashboard.py", "apps/widget/views.py"} <= names


def test_it_scopes_every_lookup_by_id_to_the_client():
    offenders = []
    for path in entry_points():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if BARE_LOOKUP.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "lookups by id must also filter by client:\n" + "\n".join(offenders)


def test_the_lint_catches_a_bare_lookup():
    assert BARE_LOOKUP.search("key = ApiKey.objects.get(pk=key_id)")
    assert not BARE_LOOKUP.search("get_object_or_404(ApiKey, pk=key_id, client=request.client)")
    assert ENTRY_MARKERS.search("class VoiceConsumer(AsyncWebsocketConsumer):")
