"""A git merge driver for the message catalogues: a three-way merge by message, not by line.

Two branches that each add messages at a catalogue's end conflict line by line; by message they
never do. Set up once per clone (only people who merge need it; CI does not):

    git config merge.po.driver ".venv/bin/python scripts/po_merge.py %O %A %B"

(.gitattributes names the catalogues.) Entries added on either side are kept, entries removed on
either side are removed, a translation changed on one side wins; both changed: theirs wins, and
the message is marked fuzzy so tests/test_i18n.py fails until someone looks.
"""

from __future__ import annotations

import sys

import polib


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def merge(base_path: str, ours_path: str, theirs_path: str) -> int:
    base, ours, theirs = (polib.pofile(path) for path in (base_path, ours_path, theirs_path))
    base_by, ours_by, theirs_by = ({_key(e): e for e in po} for po in (base, ours, theirs))
    result = polib.POFile()
    result.metadata = ours.metadata
    result.header = ours.header
    for entry in ours:
        key = _key(entry)
        if key in base_by and key not in theirs_by:
            continue  # removed on their side
        theirs_entry = theirs_by.get(key)
        if theirs_entry is not None and theirs_entry.msgstr != entry.msgstr:
            base_entry = base_by.get(key)
            if base_entry is not None and base_entry.msgstr == entry.msgstr:
                entry.msgstr = theirs_entry.msgstr  # only they changed it
            elif base_entry is None or base_entry.msgstr != theirs_entry.msgstr:
                entry.msgstr = theirs_entry.msgstr
                if "fuzzy" not in entry.flags:
                    entry.flags.append("fuzzy")
        result.append(entry)
    for entry in theirs:
        key = _key(entry)
        if key not in ours_by and key not in base_by:
            result.append(entry)  # added on their side
    result.save(ours_path)
    return 0


if __name__ == "__main__":
    sys.exit(merge(*sys.argv[1:4]))
