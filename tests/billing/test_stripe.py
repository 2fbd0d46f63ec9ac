"""Against Stripe-shaped payloads: webhooks signed the Stripe way drive the client's plan and status through
dj-stripe's endpoint (checkout → active → plan applied; failed → grace → suspended → paid → active; a bad
signature changes nothing); meter events in batches with the ledger key as identifier (a resend never
double-bills; a crash between the ledger write and the send resends later); plans synced to products and
prices; Checkout and the Customer Portal. Stripe's HTTP is replaced with `responses` (dj-stripe's stripe module,
requests) and respx (our provider, httpx) — never our own logic."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
import responses
import respx
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import metering, services
from apps.billing.models import BillingAccount, Invoice
from apps.billing.usage import usage_allowed, usage_record
from apps.clients.models import Plan
from apps.core.errors import ProviderError
from apps.usage.models import UsageRecord
from tests.billing import stripe_fixtures as fx

pytestmark = pytest.mark.django_db
API = "https://api.stripe.com/v1"


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_TEST_SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
    settings.BILLING_STRIPE_OVERAGE_PRICE = "price_overage_meter"
    Plan.objects.filter(code="expert").update(stripe_price_id=fx.PRICE, stripe_product_id=fx.PRODUCT)
    return settings


@pytest.fixture
def endpoint(stripe_on):
    from djstripe.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(
        id="we_1Mr5jULkdIwHu7ix1ibLTM0x", secret=fx.WEBHOOK_SECRET, url="https://vocalia.example/stripe/webhook/",
        livemode=False, enabled_events=["*"], api_version="2025-03-31.basil", status="enabled")


@pytest.fixture
def stripe_api(cast):
    """What dj-stripe asks Stripe while it syncs an event's objects: answered with Stripe-shaped objects."""
    client_id = cast.client_a.pk
    objects = {
        "customers": fx.customer(client_id), "subscriptions": fx.subscription(client_id, "active"),
        "products": {"id": fx.PRODUCT, "object": "product", "active": True, "created": fx.NOW, "name": "Expert",
                     "livemode": False, "metadata": {"vocalia_plan": "expert"}, "type": "service"},
        "prices": fx.subscription(client_id, "active")["items"]["data"][0]["price"],
        "invoices": fx.invoice(client_id, "paid", paid=True),
        "checkout": fx.checkout_session(client_id),
        "payment_methods": {"id": "pm_1Q0PsIJvEtkwdCNYMSaVuRz6", "object": "payment_method", "type": "card",
                            "card": {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2030},
                            "customer": fx.CUSTOMER, "created": fx.NOW, "livemode": False, "metadata": {},
                            "billing_details": {}},
        "account": {"id": "acct_1Nv0FGQ9RKHgCVdK", "object": "account", "country": "FR", "email": None,
                    "settings": {"dashboard": {"display_name": "Agency"}}, "type": "standard", "metadata": {}},
    }

    def answer(request):
        parts = request.path_url.split("?")[0].removeprefix("/v1/").split("/")
        kind = "checkout" if parts[0] == "checkout" else parts[0]
        one = len(parts) == (3 if kind == "checkout" else 2) or kind == "account"  # /v1/<kind>/<id>: one object
        empty = {"object": "list", "data": [], "has_more": False, "url": "/" + "/".join(parts)}
        return (200, {}, json.dumps(objects.get(kind) if one and kind in objects else empty))

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(f"{API}/.*"), callback=answer)
        yield mock


def post(payload, *, endpoint, signature=None):
    raw = fx.body(payload)
    return HttpClient().post(f"/stripe/webhook/{endpoint.djstripe_uuid}/", raw, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=signature or fx.sign(raw))


def account(cast):
    return BillingAccount.objects.get(client=cast.client_a)


def test_checkout_then_an_active_subscription_applies_the_plan(cast, endpoint, stripe_api):
    services.account_for(cast.client_a)
    response = post(fx.event("checkout.session.completed", fx.checkout_session(cast.client_a.pk)), endpoint=endpoint)
    assert response.status_code == 200, response.content
    response = post(fx.event("customer.subscription.updated", fx.subscription(cast.client_a.pk, "active"), number=2),
                    endpoint=endpoint)
    assert response.status_code == 200, response.content
    cast.client_a.refresh_from_db()
    found = account(cast)
    assert cast.client_a.plan.code == "expert"
    assert (found.status, found.stripe_customer_id, found.stripe_subscription_id, found.card_on_file) == (
        "active", fx.CUSTOMER, fx.SUBSCRIPTION, True)
    from djstripe.models import Subscription

    assert Subscription.objects.filter(id=fx.SUBSCRIPTION).exists()  # dj-stripe keeps its copy too


def test_a_failed_payment_opens_a_grace_period_then_suspends_and_payment_restores_at_once(
        cast, endpoint, stripe_api, django_capture_on_commit_callbacks):
    services.subscription_apply(client=cast.client_a, status="active", customer_id=fx.CUSTOMER, source="test")
    post(fx.event("invoice.payment_failed", fx.invoice(cast.client_a.pk, "open", paid=False), number=3),
         endpoint=endpoint)
    grace = account(cast)
    assert grace.status == "past_due" and grace.grace_until > timezone.now() + timedelta(days=6)
    assert usage_allowed(client=cast.client_a, kind="chat_turn")  # the grace period: usage goes on
    assert Invoice.objects.get(client=cast.client_a, number="0759376C-0001").status == "open"
    assert services.grace_sweep(now=timezone.now() + timedelta(days=8)) == 1
    assert account(cast).status == "suspended"
    services.gate_rebuild_for(cast.client_a)
    assert not usage_allowed(client=cast.client_a, kind="chat_turn")
    with django_capture_on_commit_callbacks(execute=True):
        post(fx.event("invoice.paid", fx.invoice(cast.client_a.pk, "paid", paid=True), number=4), endpoint=endpoint)
    back = account(cast)
    assert back.status == "active" and back.grace_until is None
    assert usage_allowed(client=cast.client_a, kind="chat_turn")  # at once: the mirror was rebuilt
    assert Invoice.objects.get(client=cast.client_a, number="0759376C-0001").status == "paid"


def test_a_renewal_keeps_the_subscription_active_and_records_the_invoice(cast, endpoint, stripe_api):
    services.subscription_apply(client=cast.client_a, status="active", customer_id=fx.CUSTOMER, source="test")
    post(fx.event("invoice.paid", fx.invoice(cast.client_a.pk, "paid", number="0759376C-0002", paid=True), number=5),
         endpoint=endpoint)
    post(fx.event("customer.subscription.updated", fx.subscription(cast.client_a.pk, "active"), number=6),
         endpoint=endpoint)
    assert account(cast).status == "active"
    invoice = Invoice.objects.get(client=cast.client_a, number="0759376C-0002")
    assert (invoice.total_cents, invoice.status) == (14900, "paid") and invoice.hosted_url.startswith("https://")


def test_a_cancelled_subscription_pauses_the_service(cast, endpoint, stripe_api):
    services.subscription_apply(client=cast.client_a, status="active", customer_id=fx.CUSTOMER, source="test")
    post(fx.event("customer.subscription.deleted", fx.subscription(cast.client_a.pk, "canceled"), number=7),
         endpoint=endpoint)
    assert account(cast).status == "canceled"
    services.gate_rebuild_for(cast.client_a)
    assert not usage_allowed(client=cast.client_a, kind="call_minute")


@pytest.mark.parametrize("signature", ["t=1,v1=deadbeef", "", "v1=abc", "t=9999999999999999999,v1=00"])
def test_a_webhook_not_signed_by_stripe_changes_nothing(cast, endpoint, signature):
    services.account_for(cast.client_a)
    raw_event = fx.event("invoice.payment_failed", fx.invoice(cast.client_a.pk, "open", paid=False), number=8)
    response = post(raw_event, endpoint=endpoint, signature=signature or "t=,v1=")
    assert response.status_code == 400
    assert account(cast).status != "past_due"


def test_a_webhook_signed_with_another_secret_or_too_old_is_refused(cast, endpoint):
    services.account_for(cast.client_a)
    raw = fx.event("invoice.payment_failed", fx.invoice(cast.client_a.pk, "open", paid=False), number=9)
    data = fx.body(raw)
    assert post(raw, endpoint=endpoint, signature=fx.sign(data, secret="whsec_other")).status_code == 400
    old = fx.sign(data, at=int(timezone.now().timestamp()) - 3600)
    assert post(raw, endpoint=endpoint, signature=old).status_code == 400
    assert account(cast).status != "past_due"


def test_another_clients_customer_cannot_move_this_client(cast, endpoint, stripe_api):
    services.subscription_apply(client=cast.client_a, status="active", customer_id=fx.CUSTOMER, source="test")
    services.account_for(cast.client_b)
    other = fx.invoice(cast.client_b.pk, "open", paid=False)
    other["customer"] = "cus_someone_else"
    post(fx.event("invoice.payment_failed", other, number=10), endpoint=endpoint)
    assert account(cast).status == "active"
    assert BillingAccount.objects.get(client=cast.client_b).status == "past_due"  # its own metadata names B


# --- meter events ---------------------------------------------------------------------------------------------


def _overage(cast, django_capture_on_commit_callbacks, count):
    client = cast.client_a
    services.subscription_apply(client=client, status="active", customer_id=fx.CUSTOMER, card=True, source="test")
    with tenant_context(client):
        from apps.usage.services import usage_increment

        usage_increment(metric="chat_turns", amount=client.plan.chat_turns)
    with django_capture_on_commit_callbacks(execute=False), tenant_context(client):
        for n in range(count):
            usage_record(kind="chat_turn", quantity=1, key=f"turn:meter-{n}")


def test_meter_events_go_in_batches_with_the_ledger_key_and_a_resend_bills_once(cast, stripe_on,
                                                                                django_capture_on_commit_callbacks):
    _overage(cast, django_capture_on_commit_callbacks, 5)
    seen: dict[str, int] = {}

    def stripe_meter(request):
        form = dict(httpx.QueryParams(request.content.decode()))
        seen[form["identifier"]] = seen.get(form["identifier"], 0) + 1  # Stripe de-duplicates on it
        return httpx.Response(200, json={"object": "billing.meter_event", "identifier": form["identifier"],
                                         "event_name": form["event_name"], "livemode": False, "created": fx.NOW,
                                         "payload": {"value": form["payload[value]"],
                                                     "stripe_customer_id": form["payload[stripe_customer_id]"]},
                                         "timestamp": int(form["timestamp"])})

    with respx.mock(assert_all_called=False) as mock, tenant_context(cast.client_a):
        route = mock.post(f"{API}/billing/meter_events").mock(side_effect=stripe_meter)
        assert metering.meter_send(client=cast.client_a, batch=2) == 5
        assert route.call_count == 5 and set(seen) == {f"turn:meter-{n}" for n in range(5)}
        assert metering.meter_send(client=cast.client_a, batch=2) == 0  # sent rows are never sent again
        UsageRecord.objects.filter(key="turn:meter-3").update(metered_at=None)  # as if the mark had been lost
        assert metering.meter_send(client=cast.client_a) == 1
    assert seen["turn:meter-3"] == 2 and sum(1 for n in seen.values() if n == 1) == 4
    request = route.calls[0].request
    assert b"payload[stripe_customer_id]=" + fx.CUSTOMER.encode() in request.content
    assert b"payload[value]=15000" in request.content  # 0.015 € a chat reply on Pro, in micros


def test_a_crash_between_the_ledger_write_and_the_send_is_resent_later(cast, stripe_on,
                                                                       django_capture_on_commit_callbacks):
    _overage(cast, django_capture_on_commit_callbacks, 3)  # the on-commit kick never ran: a crash
    with respx.mock as mock:
        mock.post(f"{API}/billing/meter_events").respond(503, json={"error": {"message": "down", "type": "api_error"}})
        with tenant_context(cast.client_a), pytest.raises(ProviderError) as down:
            metering.meter_send(client=cast.client_a)
        assert not down.value.permanent  # a 503: the Celery task retries with backoff
    with tenant_context(cast.client_a):
        pending = UsageRecord.objects.filter(metered_at__isnull=True, overage_micros__gt=0)
        assert pending.count() == 3 and all(row.meter_attempts == 1 and row.meter_error for row in pending)
    from apps.billing.tasks import meter_sweep

    with respx.mock as mock:
        route = mock.post(f"{API}/billing/meter_events").respond(200, json={"object": "billing.meter_event"})
        assert meter_sweep() == 3
        assert route.call_count == 3
    with tenant_context(cast.client_a):
        assert not UsageRecord.objects.filter(metered_at__isnull=True, overage_micros__gt=0).exists()


# --- catalogue, checkout, portal -------------------------------------------------------------------------------


def test_plans_are_synced_to_stripe_products_and_prices(cast, stripe_on, stripe_api):
    from apps.billing.stripe_sync import plans_sync_to_stripe

    plan = Plan.objects.get(code="pro")
    Plan.objects.filter(pk=plan.pk).update(stripe_product_id="", stripe_price_id="")
    plan.refresh_from_db()
    with respx.mock as mock:
        product = mock.post(f"{API}/products").respond(200, json={
            "id": "prod_Pro", "object": "product", "active": True, "created": fx.NOW, "livemode": False,
            "metadata": {"vocalia_plan": "pro"}, "name": "Pro", "type": "service", "default_price": None,
            "description": None, "images": [], "marketing_features": [], "package_dimensions": None,
            "shippable": None, "statement_descriptor": None, "tax_code": None, "unit_label": None,
            "updated": fx.NOW, "url": None})
        price = mock.post(f"{API}/prices").respond(200, json={
            "id": "price_Pro", "object": "price", "active": True, "billing_scheme": "per_unit", "created": fx.NOW,
            "currency": "eur", "livemode": False, "lookup_key": None, "metadata": {"vocalia_plan": "pro"},
            "nickname": None, "product": "prod_Pro", "recurring": {"interval": "month", "interval_count": 1,
                                                                   "meter": None, "usage_type": "licensed"},
            "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None, "type": "recurring",
            "unit_amount": 9900, "unit_amount_decimal": "9900"})
        assert plans_sync_to_stripe(plans=[plan]) == 1
    assert b"unit_amount=9900" in price.calls.last.request.content
    assert b"recurring[interval]=month" in price.calls.last.request.content and product.called
    plan.refresh_from_db()
    assert (plan.stripe_product_id, plan.stripe_price_id) == ("prod_Pro", "price_Pro")
    from djstripe.models import Price

    assert Price.objects.get(id="price_Pro").stripe_data["unit_amount"] == 9900  # dj-stripe keeps its copy


def test_choosing_a_plan_with_stripe_goes_to_checkout_and_the_portal_opens(cast, stripe_on, as_user):
    http = as_user(cast.alice, cast.client_a)
    with respx.mock as mock:
        mock.post(f"{API}/customers").respond(200, json=fx.customer(cast.client_a.pk))
        checkout = mock.post(f"{API}/checkout/sessions").respond(200, json={
            **fx.checkout_session(cast.client_a.pk), "url": "https://checkout.stripe.com/c/pay/cs_test_a1"})
        response = http.post("/billing/plan/", {"plan": "expert"})
        assert response.status_code == 302 and response["Location"] == "https://checkout.stripe.com/c/pay/cs_test_a1"
        sent = checkout.calls.last.request.content
        assert f"line_items[0][price]={fx.PRICE}".encode() in sent and b"mode=subscription" in sent
        assert b"line_items[1][price]=price_overage_meter" in sent
        assert f"client_reference_id={cast.client_a.pk}".encode() in sent
        mock.post(f"{API}/billing_portal/sessions").respond(200, json={
            "id": "bps_1", "object": "billing_portal.session", "customer": fx.CUSTOMER,
            "url": "https://billing.stripe.com/p/session/test_1", "return_url": "http://alpha.localhost/billing/"})
        portal = http.post("/billing/portal/")
        assert portal["Location"] == "https://billing.stripe.com/p/session/test_1"
    cast.client_a.refresh_from_db()
    assert cast.client_a.plan.code == "pro"  # the plan changes when Stripe's webhook says so, not before
    assert account(cast).stripe_customer_id == fx.CUSTOMER


def test_a_refused_card_buys_nothing(cast, stripe_on):
    services.subscription_apply(client=cast.client_a, status="active", customer_id=fx.CUSTOMER, card=True,
                                source="test")
    with respx.mock as mock:
        mock.get(f"{API}/customers/{fx.CUSTOMER}").respond(200, json=fx.customer(cast.client_a.pk))
        mock.post(f"{API}/payment_intents").respond(402, json={"error": {
            "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds."}})
        from apps.core.errors import InvalidInput

        with pytest.raises(InvalidInput):
            services.pack_buy(client=cast.client_a, actor=cast.alice, minutes=100, key="f1")
    with tenant_context(cast.client_a):
        from apps.usage.models import Wallet

        assert not Wallet.objects.filter(balance_micros__gt=0).exists()
