"""Stripe-shaped payloads (copied in shape from Stripe's API reference, API 2025-03-31.basil and later) and the
signing of webhooks the way Stripe does it: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

WEBHOOK_SECRET = "whsec_test_0123456789abcdefghij"
CUSTOMER = "cus_NffrFeUfNV2Hib"
SUBSCRIPTION = "sub_1MowQVLkdIwHu7ixeRlqHVzs"
PRICE = "price_1MowQULkdIwHu7ixraBm864M"
PRODUCT = "prod_NjpI7DbZx6AlWQ"
NOW = int(time.time())


def sign(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    at = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event(kind: str, data: dict[str, Any], *, number: int = 1) -> dict[str, Any]:
    return {"id": f"evt_1NG8Du2eZvKYlo2C{number:08d}", "object": "event", "api_version": "2025-03-31.basil",
            "created": NOW, "data": {"object": data}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": kind}


def customer(client_id: int, *, card: bool = True) -> dict[str, Any]:
    return {"id": CUSTOMER, "object": "customer", "address": None, "balance": 0, "created": NOW, "currency": "eur",
            "default_source": None, "delinquent": False, "description": None, "discount": None,
            "email": "alice@a.test", "invoice_prefix": "0759376C", "invoice_settings": {
                "custom_fields": None, "default_payment_method": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6" if card else None,
                "footer": None, "rendering_options": None},
            "livemode": False, "metadata": {"vocalia_client": str(client_id)}, "name": "Client ALPHA",
            "phone": None, "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": None}


def subscription(client_id: int, status: str, *, price: str = PRICE) -> dict[str, Any]:
    return {"id": SUBSCRIPTION, "object": "subscription", "application": None, "billing_cycle_anchor": NOW,
            "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None, "collection_method":
            "charge_automatically", "created": NOW, "currency": "eur", "customer": CUSTOMER,
            "default_payment_method": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6", "description": None, "discount": None,
            "ended_at": None, "items": {"object": "list", "data": [{
                "id": "si_NcLYdDxLHxlFo7", "object": "subscription_item", "created": NOW,
                "current_period_end": NOW + 30 * 86400, "current_period_start": NOW, "metadata": {},
                "price": {"id": price, "object": "price", "active": True, "billing_scheme": "per_unit",
                          "created": NOW, "currency": "eur", "livemode": False, "lookup_key": None,
                          "metadata": {}, "nickname": None, "product": PRODUCT,
                          "recurring": {"interval": "month", "interval_count": 1, "meter": None,
                                        "usage_type": "licensed"},
                          "tax_behavior": "unspecified", "type": "recurring", "unit_amount": 14900,
                          "unit_amount_decimal": "14900"},
                "quantity": 1, "subscription": SUBSCRIPTION}], "has_more": False, "url": "/v1/subscription_items"},
            "latest_invoice": "in_1MtHbELkdIwHu7ixl4OzzPMv", "livemode": False,
            "metadata": {"vocalia_client": str(client_id)}, "start_date": NOW, "status": status,
            "trial_end": None, "trial_start": None}


def checkout_session(client_id: int) -> dict[str, Any]:
    return {"id": "cs_test_a11YYufWQzNY63zpQ6QSNRQhkUpVph4WRmzW0zWJO2znZKdVujZ0N0S22u", "object": "checkout.session",
            "client_reference_id": str(client_id), "created": NOW, "currency": "eur", "customer": CUSTOMER,
            "livemode": False, "metadata": {}, "mode": "subscription", "payment_status": "paid",
            "status": "complete", "subscription": SUBSCRIPTION, "url": None, "amount_total": 14900}


def invoice(client_id: int, status: str, *, number: str = "0759376C-0001", paid: bool) -> dict[str, Any]:
    return {"id": f"in_1MtHbELkdIwHu7ix{number[-4:]}", "object": "invoice", "account_country": "FR",
            "amount_due": 14900, "amount_paid": 14900 if paid else 0, "amount_remaining": 0 if paid else 14900,
            "attempt_count": 1, "attempted": True, "billing_reason": "subscription_cycle",
            "collection_method": "charge_automatically", "created": NOW, "currency": "eur", "customer": CUSTOMER,
            "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_1/test_{number}", "livemode": False,
            "lines": {"object": "list", "data": [{"id": "il_1", "object": "line_item", "amount": 14900,
                                                  "currency": "eur", "description": "1 × Expert (at €149.00 / month)"}],
                      "has_more": False}, "metadata": {"vocalia_client": str(client_id)}, "number": number,
            "paid": paid, "status": status, "subtotal": 14900, "total": 14900}


def body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()
