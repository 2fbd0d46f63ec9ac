"""Zulip-style lint: entry points never fetch client data by a bare id from the request."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = ["views.py", "api.py", "consumers.py"]
BARE_LOOKUP = re.compile(r"\.objects\.(get|filter)\((pk|id)=\w+\)")


def test_it_scopes_every_lookup_by_id_to_the_client():
    offenders = []
    for name in ENTRY_POINTS:
        for path in (ROOT / "apps").rglob(name):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if BARE_LOOKUP.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "lookups by id must also filter by client:\n" + "\n".join(offenders)


def test_the_lint_catches_a_bare_lookup():
    assert BARE_LOOKUP.search("key = ApiKey.objects.get(pk=key_id)")
    assert not BARE_LOOKUP.search("get_object_or_404(ApiKey, pk=key_id, client=request.client)")
