"""Reads, in the active client's schema."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.integrations.models import Delivery


def deliveries_recent(*, limit: int = 500, purpose: str | None = None) -> QuerySet[Delivery]:
    rows = Delivery.objects.all()
    if purpose is not None:
        rows = rows.filter(purpose=purpose)
    return rows[:limit]
