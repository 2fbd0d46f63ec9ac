"""Spanish: 04/12/2026 20:00 · 4 de diciembre de 2026 · 4 de diciembre de 2026, 20:00."""

from vocalia.formats.common import *  # noqa: F403

DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"
YEAR_MONTH_FORMAT = r"F \d\e Y"
MONTH_DAY_FORMAT = r"j \d\e F"
