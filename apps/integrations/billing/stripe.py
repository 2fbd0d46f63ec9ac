"""Stripe, through the stripe SDK (its sync client speaks `requests`; tests intercept it with `responses`).

Meter events (Billing Meters, API ≥ 2025-03-31.basil): `POST /v1/billing/meter_events` with
`event_name`, `payload[stripe_customer_id]`, `payload[value]`, `identifier` (our ledger key: Stripe
de-duplicates on it, so a resend never double-bills) and `timestamp`. One-off charges (minute packs,
automatic recharges) are PaymentIntents confirmed off-session against the customer's default card, with the
ledger key as the request's Idempotency-Key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.billing.base import ChargeResult, MeterEvent


def _error(error: Exception) -> ProviderError:
    import stripe

    status = getattr(error, "http_status", None) or 0
    permanent = isinstance(error, stripe.CardError | stripe.InvalidRequestError | stripe.AuthenticationError |
                           stripe.PermissionError) or status in {400, 401, 402, 403, 404}
    # Stripe's own message may quote the request (a key, a card detail): only the error's type and code go on
    code = str(getattr(error, "code", "") or "")[:60]
    return ProviderError(f"stripe: {type(error).__name__}{' ' + code if code else ''} (HTTP {status or 'none'})",
                         permanent=permanent)


class StripeBilling(ProviderBase):
    name = "stripe"
    label = "Stripe"
    connectable = False  # the agency's own Stripe account
    fields = (Field("api_key", _("Secret key"), secret=True),)

    def __init__(self, *, api_key: str) -> None:
        import stripe

        # httpx, like the other HTTP providers (tests mock it with respx); retries are the Celery task's
        self.client = stripe.StripeClient(api_key, max_network_retries=0,
                                          http_client=stripe.HTTPXClient(allow_sync_methods=True))

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        import stripe

        try:
            return fn(*args, **kwargs)
        except stripe.StripeError as error:
            raise _error(error) from None

    def usage_report(self, *, customer: str, metric: str, quantity: int, idempotency_key: str) -> ChargeResult:
        self.meter_events_send([MeterEvent(identifier=idempotency_key, customer=customer, value=quantity,
                                           timestamp=0)])
        return ChargeResult(provider_id=idempotency_key)

    def meter_events_send(self, events: list[MeterEvent]) -> list[str]:
        """One `POST /v1/billing/meter_events` per event (the v1 API takes one), up to
        BILLING_METER_CONCURRENCY at a time; the identifiers Stripe accepted. If any failed, the first error is
        raised after the others were sent: the caller marks the accepted ones and the rest are sent again."""
        from concurrent.futures import ThreadPoolExecutor

        self.accepted: list[str] = []

        def send(event: MeterEvent) -> str | ProviderError:
            params: dict[str, Any] = {"event_name": settings.BILLING_METER_EVENT_NAME, "identifier": event.identifier,
                                      "payload": {"stripe_customer_id": event.customer, "value": str(event.value)}}
            if event.timestamp:
                params["timestamp"] = event.timestamp
            try:
                # the identifier de-duplicates in Stripe's meter; the same key as Idempotency-Key replays the
                # first answer to a resent request
                self._call(self.client.v1.billing.meter_events.create, params,
                           {"idempotency_key": f"meter-{event.identifier}"})
            except ProviderError as error:
                return error
            return event.identifier

        workers = max(1, min(settings.BILLING_METER_CONCURRENCY, len(events)))
        if workers == 1:
            results = [send(event) for event in events]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(send, events))
        accepted = [result for result in results if isinstance(result, str)]
        failures = [result for result in results if isinstance(result, ProviderError)]
        if failures:
            self.accepted = accepted  # what went through before the failure, for the caller to mark
            raise failures[0]
        return accepted

    def charge(self, *, customer: str, amount_cents: int, currency: str, description: str,
               idempotency_key: str) -> ChargeResult:
        if amount_cents <= 0:
            raise ProviderError("a charge must be positive", permanent=True)
        found = self._call(self.client.v1.customers.retrieve, customer)
        method = (found.get("invoice_settings") or {}).get("default_payment_method")
        if not method:
            raise ProviderError("stripe: the customer has no default card", permanent=True)
        intent = self._call(self.client.v1.payment_intents.create, {
            "amount": amount_cents, "currency": currency.lower(), "customer": customer, "payment_method": method,
            "off_session": True, "confirm": True, "description": description[:300]},
            {"idempotency_key": idempotency_key})
        if intent.get("status") != "succeeded":
            raise ProviderError(f"stripe: payment {intent.get('status')}", permanent=True)
        return ChargeResult(provider_id=intent["id"])

    def customer_create(self, *, name: str, email: str, client_id: int) -> str:
        found = self._call(self.client.v1.customers.create, {
            "name": name[:200], "email": email or None,
            "metadata": {settings.DJSTRIPE_SUBSCRIBER_CUSTOMER_KEY: str(client_id)}},
            {"idempotency_key": f"customer-{client_id}"})
        return str(found["id"])

    def checkout_url(self, *, customer: str, price_id: str, success_url: str, cancel_url: str,
                     client_id: int, trial_days: int) -> str:
        params: dict[str, Any] = {
            "mode": "subscription", "customer": customer, "client_reference_id": str(client_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url, "cancel_url": cancel_url,
            "subscription_data": {"metadata": {settings.DJSTRIPE_SUBSCRIBER_CUSTOMER_KEY: str(client_id)}},
        }
        if settings.BILLING_STRIPE_OVERAGE_PRICE:
            params["line_items"].append({"price": settings.BILLING_STRIPE_OVERAGE_PRICE})
        if trial_days:
            params["subscription_data"]["trial_period_days"] = trial_days
        session = self._call(self.client.v1.checkout.sessions.create, params)
        return str(session["url"])

    def portal_url(self, *, customer: str, return_url: str) -> str:
        session = self._call(self.client.v1.billing_portal.sessions.create,
                             {"customer": customer, "return_url": return_url})
        return str(session["url"])

    # --- the agency's catalogue (apps/billing/stripe_sync.py) -------------------------------------------------

    def product_upsert(self, *, code: str, name: str, product_id: str) -> Any:  # a StripeObject (dj-stripe syncs it)
        if product_id:
            return self._call(self.client.v1.products.update, product_id, {"name": name})
        return self._call(self.client.v1.products.create, {"name": name, "metadata": {"vocalia_plan": code}},
                          {"idempotency_key": f"product-{code}"})

    def price_create(self, *, product_id: str, amount_cents: int, currency: str, code: str) -> Any:
        return self._call(self.client.v1.prices.create, {
            "product": product_id, "unit_amount": amount_cents, "currency": currency.lower(),
            "recurring": {"interval": "month"}, "metadata": {"vocalia_plan": code}},
            {"idempotency_key": f"price-{code}-{amount_cents}-{currency.lower()}"})
