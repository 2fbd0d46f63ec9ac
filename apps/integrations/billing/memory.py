"""The offline twin: usage and charges are recorded in memory, nobody pays; checkout and portal are the
Billing page itself (apps/billing applies the plan at once)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import ProviderBase
from apps.integrations.billing.base import ChargeResult, MeterEvent


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

    def meter_events_send(self, events: list[MeterEvent]) -> list[str]:
        for event in events:
            self.usage_report(customer=event.customer, metric="overage", quantity=event.value,
                              idempotency_key=event.identifier)
        return [event.identifier for event in events]

    def charge(self, *, customer: str, amount_cents: int, currency: str, description: str,
               idempotency_key: str) -> ChargeResult:
        if amount_cents <= 0:
            raise ProviderError("a charge must be positive", permanent=True)
        return self._record(idempotency_key, type="charge", customer=customer, amount_cents=amount_cents,
                            currency=currency, description=description)

    def customer_create(self, *, name: str, email: str, client_id: int) -> str:
        return ""  # the twin keeps no customers: the client's billing account is the customer

    def checkout_url(self, *, customer: str, price_id: str, success_url: str, cancel_url: str,
                     client_id: int, trial_days: int) -> str:
        return ""  # no hosted page: the Billing page applies the plan at once

    def portal_url(self, *, customer: str, return_url: str) -> str:
        return ""
