"""English as written in Europe and Morocco, where our clients are: 04/12/2026 20:00 · 4 December 2026."""

from vocalia.formats.common import *  # noqa: F403

DATETIME_FORMAT = "j F Y, H:i"
