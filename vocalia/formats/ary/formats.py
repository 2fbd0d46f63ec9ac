"""Moroccan Darija: 04/12/2026 20:00 · 4 دجنبر 2026 · 4 دجنبر 2026، 20:00 (months from locale/ary)."""

from vocalia.formats.common import *  # noqa: F403

DATETIME_FORMAT = "j F Y، H:i"
