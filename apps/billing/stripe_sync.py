"""The agency's plans as Stripe products and monthly prices (admin action on the plan list). Each plan is one
product (`metadata.vocalia_plan`) and one recurring price for its fee; a changed fee gets a new price (Stripe
prices are immutable) and the plan points at it. dj-stripe's copies (Product, Price) are synced from the
answers, so its admin and webhooks know them. Overage is one metered price on the `vocalia_overage` meter,
created once in Stripe's dashboard (BILLING_STRIPE_OVERAGE_PRICE, docs/billing.md)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.clients.models import Plan
from apps.core.errors import InvalidInput
from apps.integrations.resolver import provider_for


def plans_sync_to_stripe(*, plans: list[Plan], currency: str = "EUR") -> int:
    resolved = provider_for("billing", client=None)
    if resolved.is_twin:
        raise InvalidInput(_("No Stripe key is set (STRIPE_TEST_SECRET_KEY or STRIPE_LIVE_SECRET_KEY): the "
                             "offline billing keeps the plans locally."))
    stripe = resolved.provider
    for plan in plans:
        product = stripe.product_upsert(code=plan.code, name=plan.name, product_id=plan.stripe_product_id)
        cents = int(plan.monthly_price_eur * 100)
        price = stripe.price_create(product_id=product["id"], amount_cents=cents, currency=currency, code=plan.code)
        Plan.objects.filter(pk=plan.pk).update(stripe_product_id=product["id"], stripe_price_id=price["id"])
        _djstripe_copy(product, price)
    return len(plans)


def _djstripe_copy(product: dict[str, Any], price: dict[str, Any]) -> None:
    from djstripe.models import Price, Product

    Product.sync_from_stripe_data(product)
    Price.sync_from_stripe_data(price)
