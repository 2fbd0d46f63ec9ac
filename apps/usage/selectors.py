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
