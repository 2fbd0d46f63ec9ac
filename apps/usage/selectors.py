from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from apps.usage.models import UsageCounter
from apps.usage.services import month_start

if TYPE_CHECKING:
    from apps.clients.models import Client


def usage_this_month(*, client: Client, metric: str) -> int:
    with tenant_context(client):
        row = UsageCounter.objects.filter(metric=metric, period=month_start()).values_list("value", flat=True).first()
    return int(row or 0)


def usage_summary(*, client: Client, months: int = 12) -> dict[str, object]:
    """The client's counters for the last `months` months (newest first) and where each plan quota stands."""
    from apps.clients.entitlements import client_quotas

    with tenant_context(client):
        rows = list(UsageCounter.objects.order_by("-period", "metric").values("metric", "period", "value")[
            : months * len(UsageCounter.Metric.values)])
    periods: dict[str, dict[str, int]] = {}
    for row in rows:
        periods.setdefault(row["period"].strftime("%Y-%m"), {})[row["metric"]] = int(row["value"])
    metrics = UsageCounter.Metric.values
    return {
        "period": month_start().strftime("%Y-%m"),
        "months": [{"month": month, "counters": {metric: values.get(metric, 0) for metric in metrics}}
                   for month, values in list(periods.items())[:months]],
        "quotas": [{"quota": q.quota, "used": q.used, "limit": q.limit, "left": q.left}
                   for q in client_quotas(client)],
    }
