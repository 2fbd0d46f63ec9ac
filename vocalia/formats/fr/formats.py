"""French: 04/12/2026 20:00 · 4 décembre 2026 · 4 décembre 2026 à 20:00."""

from vocalia.formats.common import *  # noqa: F403

DATETIME_FORMAT = r"j F Y \à H:i"
