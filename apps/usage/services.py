from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from apps.usage.models import UsageCounter


def month_start(moment: date | None = None) -> date:
    day = moment or timezone.localdate()
    return day.replace(day=1)


def usage_increment(*, metric: str, amount: int = 1, on: date | None = None) -> None:
    """Add `amount` to this month's counter in the active client's schema (one atomic upsert), as usage the
    plan includes. No ledger row, no billing: billable usage goes through apps.billing.usage.usage_record."""
    if metric not in UsageCounter.Metric.values:
        raise ValueError(f"unknown metric {metric!r}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {UsageCounter._meta.db_table} (metric, period, value, included, updated)
                VALUES (%s, %s, %s, %s, now())
                ON CONFLICT (metric, period) DO UPDATE
                SET value = {UsageCounter._meta.db_table}.value + EXCLUDED.value,
                    included = {UsageCounter._meta.db_table}.included + EXCLUDED.included, updated = now()""",
            [metric, month_start(on), amount, amount],
        )
