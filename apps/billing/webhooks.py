"""Stripe → the client's plan and status. dj-stripe's webhook endpoint (`/stripe/webhook/<uuid>/` on the platform
host, public schema; its `WebhookEndpoint` row holds the signing secret) checks the `Stripe-Signature`
(t=…,v1=HMAC-SHA256), stores the event once and syncs its objects; these receivers then apply the event to our
own billing account and enter the client's schema only through the services. An exception rolls the event back
and answers 500, so Stripe retries it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.dispatch import receiver
from djstripe.signals import WEBHOOK_SIGNALS

from apps.billing import services
from apps.billing.models import BillingAccount
from apps.clients.models import Client, Plan

logger = logging.getLogger(__name__)
SUBSCRIPTION_EVENTS = ["customer.subscription.created", "customer.subscription.updated",
                       "customer.subscription.deleted", "customer.subscription.paused",
                       "customer.subscription.resumed"]


def client_for(data: dict[str, Any]) -> Client | None:
    """The client a Stripe object belongs to: our metadata key, else the customer id we stored."""
    key = settings.DJSTRIPE_SUBSCRIBER_CUSTOMER_KEY
    raw = str((data.get("metadata") or {}).get(key) or data.get("client_reference_id") or "")
    customer = data.get("customer") if isinstance(data.get("customer"), str) else (data.get("customer") or {}).get(
        "id", "")
    if data.get("object") == "customer":
        customer = data.get("id", "")
    if raw.isdigit():
        found = Client.objects.select_related("plan").filter(pk=int(raw)).first()
        if found is not None:
            return found
    if customer:
        account = BillingAccount.objects.select_related("client__plan").filter(stripe_customer_id=customer).first()
        if account is not None:
            return account.client
    return None


def _object(event: Any) -> dict[str, Any]:
    return dict((event.data or {}).get("object") or {})


def _customer_id(data: dict[str, Any]) -> str:
    customer = data.get("customer")
    return customer if isinstance(customer, str) else str((customer or {}).get("id") or "")


def subscription_event(data: dict[str, Any], event_type: str) -> None:
    client = client_for(data)
    if client is None:
        logger.warning("stripe %s for an unknown customer %s", event_type, _customer_id(data))
        return
    items = ((data.get("items") or {}).get("data") or [])
    price_ids = [str(((item.get("price") or {}).get("id")) or "") for item in items]
    plan = Plan.objects.filter(stripe_price_id__in=[p for p in price_ids if p]).first()
    status = "canceled" if event_type == "customer.subscription.deleted" else str(data.get("status") or "")
    trial_end = data.get("trial_end")
    services.subscription_apply(
        client=client, status=status, plan=plan, customer_id=_customer_id(data), subscription_id=str(data["id"]),
        card=True if data.get("default_payment_method") else None,
        trial_ends=datetime.fromtimestamp(int(trial_end), tz=UTC) if trial_end else None)


@receiver(WEBHOOK_SIGNALS["checkout.session.completed"])
def on_checkout_completed(sender: Any, event: Any, **kwargs: Any) -> None:
    data = _object(event)
    client = client_for(data)
    if client is None or data.get("mode") != "subscription":
        return
    paid = data.get("payment_status") in {"paid", "no_payment_required"}
    services.subscription_apply(client=client, status="active" if paid else "incomplete",
                                customer_id=_customer_id(data), subscription_id=str(data.get("subscription") or ""),
                                card=True)


def _subscription_receiver(event_type: str) -> None:
    @receiver(WEBHOOK_SIGNALS[event_type], weak=False)
    def on_subscription(sender: Any, event: Any, **kwargs: Any) -> None:
        subscription_event(_object(event), event_type)


for _name in SUBSCRIPTION_EVENTS:
    _subscription_receiver(_name)


@receiver(WEBHOOK_SIGNALS["invoice.paid"])
def on_invoice_paid(sender: Any, event: Any, **kwargs: Any) -> None:
    data = _object(event)
    client = client_for(data)
    if client is None:
        return
    services.invoice_from_stripe(client=client, data=data)
    account = services.account_for(client)
    if account.status in {BillingAccount.Status.PAST_DUE, BillingAccount.Status.SUSPENDED}:
        services.subscription_apply(client=client, status="active", customer_id=_customer_id(data))


@receiver(WEBHOOK_SIGNALS["invoice.payment_failed"])
def on_invoice_failed(sender: Any, event: Any, **kwargs: Any) -> None:
    data = _object(event)
    client = client_for(data)
    if client is None:
        return
    services.invoice_from_stripe(client=client, data=data)
    services.subscription_apply(client=client, status="past_due", customer_id=_customer_id(data))


@receiver(WEBHOOK_SIGNALS["invoice.finalized"])
def on_invoice_finalized(sender: Any, event: Any, **kwargs: Any) -> None:
    data = _object(event)
    client = client_for(data)
    if client is not None:
        services.invoice_from_stripe(client=client, data=data)


@receiver(WEBHOOK_SIGNALS["customer.updated"])
def on_customer_updated(sender: Any, event: Any, **kwargs: Any) -> None:
    data = _object(event)
    client = client_for(data)
    if client is None:
        return
    has_card = bool((data.get("invoice_settings") or {}).get("default_payment_method"))
    BillingAccount.objects.filter(client_id=client.pk).update(card_on_file=has_card)
    services.subscription_apply(client=client, status=services.account_for(client).status,
                                customer_id=str(data.get("id") or ""))
