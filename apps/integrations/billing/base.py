"""Billing: customers, checkout and portal sessions, metered usage and one-off charges — each write idempotent
by key. Providers: `stripe` (the stripe SDK; docs/billing.md) and the offline twin `memory`, which records
everything in memory and answers local URLs, so the product runs with no Stripe key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ChargeResult:
    provider_id: str


@dataclass(frozen=True)
class MeterEvent:
    identifier: str  # the ledger key: the provider de-duplicates on it (Stripe: for at least 24 h)
    customer: str
    value: int  # micros of the client's currency billed as overage
    timestamp: int  # Unix seconds of the usage


class Billing(Protocol):
    name: str

    def usage_report(self, *, customer: str, metric: str, quantity: int, idempotency_key: str) -> ChargeResult: ...

    def meter_events_send(self, events: list[MeterEvent]) -> list[str]:
        """Send the events; the identifiers accepted (a duplicate counts as accepted). Raises ProviderError."""
        ...

    def charge(self, *, customer: str, amount_cents: int, currency: str, description: str,
               idempotency_key: str) -> ChargeResult: ...

    def customer_create(self, *, name: str, email: str, client_id: int) -> str: ...

    def checkout_url(self, *, customer: str, price_id: str, success_url: str, cancel_url: str,
                     client_id: int, trial_days: int) -> str: ...

    def portal_url(self, *, customer: str, return_url: str) -> str: ...
