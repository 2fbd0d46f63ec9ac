"""Arabic: 04/12/2026 20:00 · 4 ديسمبر 2026 · 4 ديسمبر 2026، 20:00 (Western digits, 24-hour clock)."""

from vocalia.formats.common import *  # noqa: F403

DATETIME_FORMAT = "j F Y، H:i"
