"""Billing: report metered usage and charge a customer, each call idempotent by key.

The real provider (Stripe: `stripe.billing.MeterEvent.create`, see STACK-NOTES.md) comes with the billing
issue; the twin `memory.MemoryBilling` records usage and charges in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ChargeResult:
    provider_id: str


class Billing(Protocol):
    name: str

    def usage_report(self, *, customer: str, metric: str, quantity: int, idempotency_key: str) -> ChargeResult: ...

    def charge(self, *, customer: str, amount_cents: int, currency: str, description: str,
               idempotency_key: str) -> ChargeResult: ...
