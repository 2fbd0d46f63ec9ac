"""Compile locale/*/LC_MESSAGES/django.po to .mo with polib (no system gettext needed)."""

from __future__ import annotations

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    count = 0
    for po_path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        po = polib.pofile(str(po_path))
        po.save_as_mofile(str(po_path.with_suffix(".mo")))
        count += 1
        print(f"{po_path.relative_to(ROOT)}: {po.percent_translated()}% translated")
    print(f"{count} catalogue(s) compiled")
