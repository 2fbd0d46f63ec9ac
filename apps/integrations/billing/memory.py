"""The offline twin: usage and charges are recorded in memory, nobody pays."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import ProviderBase
from apps.integrations.billing.base import ChargeResult


class MemoryBilling(ProviderBase):
    name = "memory"
    label = _("Built-in (offline: recorded, nobody pays)")
    offline = True
    records: ClassVar[dict[str, dict[str, Any]]] = {}  # idempotency key -> what was recorded

    def _record(self, key: str, **row: Any) -> ChargeResult:
        if not key:
            raise ProviderError("an idempotency key is required", permanent=True)
        found = type(self).records.setdefault(key, {"id": f"mem_{uuid.uuid4().hex}", **row})
        return ChargeResult(provider_id=found["id"])

    def usage_report(self, *, customer: str, metric: str, quantity: int, idempotency_key: str) -> ChargeResult:
        if quantity < 0:
            raise ProviderError("usage cannot be negative", permanent=True)
        return self._record(idempotency_key, type="usage", customer=customer, metric=metric, quantity=quantity)

    def charge(self, *, customer: str, amount_cents: int, currency: str, description: str,
               idempotency_key: str) -> ChargeResult:
        if amount_cents <= 0:
            raise ProviderError("a charge must be positive", permanent=True)
        return self._record(idempotency_key, type="charge", customer=customer, amount_cents=amount_cents,
                            currency=currency, description=description)
