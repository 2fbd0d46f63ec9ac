"""The one place that answers "may this client use X" and "how much is left"."""

from __future__ import annotations

from dataclasses import dataclass

from apps.clients.models import Client
from apps.clients.plans import FEATURES, QUOTAS
from apps.core.errors import FeatureNotInPlan, QuotaExceeded

# Quotas counted per calendar month from usage records; the others are counted by the caller.
METERED_QUOTAS = {"monthly_conversations": "conversations", "voice_minutes": "voice_minutes"}


@dataclass(frozen=True)
class QuotaStatus:
    quota: str
    limit: int
    used: int

    @property
    def label(self) -> str:
        return str(QUOTAS[self.quota])

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def percent(self) -> int:
        if self.limit <= 0:
            return 100 if self.used else 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


def client_may(client: Client, feature: str) -> bool:
    if feature not in FEATURES:
        raise KeyError(f"unknown feature {feature!r}")
    return feature in client.plan.features


def client_require(client: Client, feature: str) -> None:
    if not client_may(client, feature):
        raise FeatureNotInPlan()


def quota_limit(client: Client, quota: str) -> int:
    if quota not in QUOTAS:
        raise KeyError(f"unknown quota {quota!r}")
    return int(getattr(client.plan, quota))


def quota_status(client: Client, quota: str, *, used: int | None = None) -> QuotaStatus:
    """How much of `quota` is used and left. Metered quotas read this month's usage."""
    limit = quota_limit(client, quota)
    if used is None:
        if quota not in METERED_QUOTAS:
            raise ValueError(f"{quota!r} is counted by its owner: pass used=")
        from apps.usage.selectors import usage_this_month

        used = usage_this_month(client=client, metric=METERED_QUOTAS[quota])
    return QuotaStatus(quota=quota, limit=limit, used=used)


def quota_require(client: Client, quota: str, *, used: int | None = None, adding: int = 1) -> QuotaStatus:
    status = quota_status(client, quota, used=used)
    if status.used + adding > status.limit:
        raise QuotaExceeded(retry_after=3600)
    return status


def client_quotas(client: Client) -> list[QuotaStatus]:
    return [quota_status(client, quota) for quota in METERED_QUOTAS]
