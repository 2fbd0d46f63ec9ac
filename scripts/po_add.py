"""Append new messages to the five catalogues, leaving the rest of each file as it is.

    .venv/bin/python scripts/po_add.py entries.json

entries.json maps each English msgid to {"fr": …, "es": …, "ar": …, "ary": …}; the English catalogue
keeps an empty msgstr (the msgid is the English text). A msgid already in a catalogue is left alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fr", "es", "ar", "ary")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def add(entries: dict[str, dict[str, str]]) -> int:
    added = 0
    for language in LANGUAGES:
        path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
        known = {entry.msgid for entry in polib.pofile(str(path))}
        blocks = [f"\nmsgid {_quote(msgid)}\nmsgstr {_quote('' if language == 'en' else texts[language])}\n"
                  for msgid, texts in entries.items() if msgid not in known]
        with path.open("a", encoding="utf-8") as handle:
            handle.writelines(blocks)
        added += len(blocks)
    return added


if __name__ == "__main__":
    print(f"{add(json.loads(Path(sys.argv[1]).read_text(encoding='utf-8')))} entries added")
