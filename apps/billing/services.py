"""Billing writes: subscription state (from Stripe's webhooks or the offline twin), plan changes, the wallet
(minute packs, automatic recharge, trial credit), the agency's prices, 'usage stopped' news, local invoices.

Each checks who may act, writes, audits in the client's schema and queues side effects after the commit."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.billing import pricing
from apps.billing.models import BillingAccount, Invoice
from apps.billing.usage import account_for, account_peek, gate_rebuild, wallet_row

__all__ = ["account_for"]
from apps.clients.models import Client, Plan
from apps.clients.services import manager_require
from apps.core.errors import InvalidInput, PermissionDenied, ProviderError
from apps.integrations.resolver import provider_for
from apps.usage.models import UsageCounter, UsageRecord, Wallet, WalletEntry
from apps.usage.services import month_start

logger = logging.getLogger(__name__)
Status = BillingAccount.Status
STRIPE_STATUS = {"trialing": Status.TRIALING, "active": Status.ACTIVE, "past_due": Status.PAST_DUE,
                 "unpaid": Status.PAST_DUE, "canceled": Status.CANCELED, "incomplete_expired": Status.CANCELED,
                 "paused": Status.SUSPENDED}


def _schema(client: Client) -> Any:
    """Enter the client's schema unless already in it."""
    if connection.schema_name == client.schema_name:
        from contextlib import nullcontext

        return nullcontext()
    return tenant_context(client)


def _staff_require(actor: Any) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(_("Only the agency can set a client's prices."))


def billing_provider(client: Client) -> Any:
    return provider_for("billing", client=client)


def gate_rebuild_for(client: Client) -> None:
    """Rebuild the client's cap mirror now, from the database."""
    with _schema(client):
        gate_rebuild(client)


def _rebuild_after_commit(client: Client) -> None:
    def rebuild() -> None:
        with _schema(client):
            gate_rebuild(client)
    transaction.on_commit(rebuild)


# --- subscription state -----------------------------------------------------------------------------------


def subscription_apply(*, client: Client, status: str, plan: Plan | None = None, customer_id: str = "",
                       subscription_id: str = "", card: bool | None = None, trial_ends: datetime | None = None,
                       actor: Any = None, source: str = "stripe") -> BillingAccount:
    """Make the client's billing follow its subscription. `status` is Stripe's (trialing, active, past_due,
    unpaid, canceled, …) or ours. Past due opens a grace period (banners; usage goes on); a grace period
    that has run out suspends (the widget and calls refuse politely, data kept); paid is active at once."""
    wanted = STRIPE_STATUS.get(status, status)
    if wanted not in Status.values:
        return account_for(client)  # incomplete: nothing changes until Stripe says more
    with transaction.atomic():
        account_for(client)
        account = BillingAccount.objects.select_for_update().get(client_id=client.pk)
        before = account.status
        now = timezone.now()
        if wanted == Status.PAST_DUE:
            if account.grace_until is None:
                account.grace_until = now + timedelta(days=settings.BILLING_GRACE_DAYS)
            elif account.grace_until <= now or before == Status.SUSPENDED:
                wanted = Status.SUSPENDED
        else:
            account.grace_until = None if wanted in {Status.ACTIVE, Status.TRIALING} else account.grace_until
        account.status = wanted
        if wanted in {Status.ACTIVE, Status.TRIALING}:
            account.stopped_at = None
        if trial_ends is not None:
            account.trial_ends = trial_ends
        account.stripe_customer_id = customer_id or account.stripe_customer_id
        account.stripe_subscription_id = subscription_id or account.stripe_subscription_id
        if card is not None:
            account.card_on_file = card
        account.save()
        changed_plan = plan is not None and plan.pk != client.plan_id
        if changed_plan:
            stored = Client.objects.get(pk=client.pk)
            stored.plan = plan  # type: ignore[assignment]
            stored.save(update_fields=["plan"])  # the routing caches follow (apps/clients/signals.py)
            client.plan = plan  # type: ignore[assignment]
        with _schema(client):
            if before != wanted or changed_plan:
                audit_record(action="billing.status_changed", actor=actor, target=client.slug,
                             data={"from": before, "to": wanted, "plan": client.plan.code, "source": source})
            if wanted == Status.TRIALING and client.plan.trial_minutes:
                trial_credit_grant(client=client)
            if wanted == Status.SUSPENDED and before != Status.SUSPENDED:
                transaction.on_commit(lambda: notify(client=client, reason="suspended"))
        _rebuild_after_commit(client)
    return account


def grace_sweep(*, now: datetime | None = None) -> int:
    """Suspend the accounts whose grace period has run out (Celery beat, hourly)."""
    now = now or timezone.now()
    due = BillingAccount.objects.filter(status=Status.PAST_DUE, grace_until__lte=now).select_related("client")
    count = 0
    for account in due:
        subscription_apply(client=account.client, status=Status.SUSPENDED, source="grace")
        count += 1
    return count


def plan_change(*, client: Client, actor: Any, plan_code: str, success_url: str, cancel_url: str) -> str:
    """Subscribe to (or move to) a plan. With Stripe: the Checkout URL to send the client to (its webhook
    applies the plan). Offline: applied at once, with a paid local invoice for the month's fee; answers ""."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can change the plan."))
    plan = Plan.objects.filter(code=plan_code, is_public=True).first()
    if plan is None:
        raise InvalidInput(_("Unknown plan."))
    resolved = billing_provider(client)
    account = account_for(client)
    if not resolved.is_twin:
        if not plan.stripe_price_id:
            raise InvalidInput(_("This plan is not on sale online yet: the agency has to sync it with Stripe."))
        customer = customer_ensure(client=client, provider=resolved.provider)
        first = not account.stripe_subscription_id
        return resolved.provider.checkout_url(customer=customer, price_id=plan.stripe_price_id,
                                              success_url=success_url, cancel_url=cancel_url, client_id=client.pk,
                                              trial_days=plan.trial_days if first else 0)
    first_time = not Invoice.objects.filter(client=client).exists()
    status = Status.TRIALING if first_time and plan.trial_days else Status.ACTIVE
    subscription_apply(client=client, status=status, plan=plan, actor=actor, source="twin",
                       trial_ends=timezone.now() + timedelta(days=plan.trial_days) if status == Status.TRIALING
                       else None)
    if status == Status.ACTIVE and plan.monthly_price_eur:
        invoice_issue(client=client, lines=[{"label": _("Plan %(name)s, monthly fee") % {"name": plan.name},
                                             "amount_cents": int(plan.monthly_price_eur * 100)}],
                      key=f"plan-{plan.code}-{uuid.uuid4().hex[:8]}")
    return ""


def customer_ensure(*, client: Client, provider: Any) -> str:
    account = account_for(client)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer = provider.customer_create(name=client.name, email=client.owner_email, client_id=client.pk)
    BillingAccount.objects.filter(pk=account.pk).update(stripe_customer_id=customer)
    return customer


def portal_link(*, client: Client, actor: Any, return_url: str) -> str:
    """The Customer Portal (card, plan, invoices) for the client; "" offline (the Billing page is the portal)."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can manage billing."))
    resolved = billing_provider(client)
    if resolved.is_twin:
        return ""
    return resolved.provider.portal_url(customer=customer_ensure(client=client, provider=resolved.provider),
                                        return_url=return_url)


def card_set_offline(*, client: Client, actor: Any, on: bool) -> BillingAccount:
    """Offline only: pretend a card is (or is no longer) on file, so the demo shows overage and recharges."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can manage billing."))
    if not billing_provider(client).is_twin:
        raise InvalidInput(_("Cards are managed in the payment portal."))
    with transaction.atomic():
        account = account_for(client)
        BillingAccount.objects.filter(pk=account.pk).update(card_on_file=on, stopped_at=None if on else
                                                            account.stopped_at)
        with _schema(client):
            audit_record(action="billing.card_changed", actor=actor, target=client.slug, data={"card": on})
        _rebuild_after_commit(client)
    account.refresh_from_db()
    return account


# --- the agency's prices -------------------------------------------------------------------------------------


def pricing_set(*, client: Client, actor: Any, prices: dict[str, Decimal | None],
                markup_percent: Decimal | None, spend_cap_eur: Decimal | None) -> BillingAccount:
    """The agency sets what this client pays per unit (per pool; None: the markup, else the plan's price)."""
    _staff_require(actor)
    for metric, value in prices.items():
        if metric not in pricing.BILLED_METRICS:
            raise InvalidInput(_("Unknown usage."))
        if value is not None and not Decimal(0) <= value <= Decimal(1000):
            raise InvalidInput(_("A price must be between 0 and 1000."))
    if markup_percent is not None and not Decimal(-100) <= markup_percent <= Decimal(10000):
        raise InvalidInput(_("The markup must be between -100 % and 10000 %."))
    if spend_cap_eur is not None and not Decimal(0) <= spend_cap_eur <= Decimal(10**7):
        raise InvalidInput(_("The cap must be between 0 and 10,000,000."))
    with transaction.atomic():
        account_for(client)
        account = BillingAccount.objects.select_for_update().get(client_id=client.pk)
        before = {"prices": dict(account.prices), "markup": str(account.markup_percent),
                  "cap": str(account.spend_cap_eur)}
        account.prices = {metric: str(value) for metric, value in prices.items() if value is not None}
        account.markup_percent, account.spend_cap_eur = markup_percent, spend_cap_eur
        account.save(update_fields=["prices", "markup_percent", "spend_cap_eur", "updated"])
        with _schema(client):
            audit_record(action="billing.prices_changed", actor=actor, target=client.slug,
                         data={"from": before, "to": {"prices": account.prices, "markup": str(markup_percent),
                                                      "cap": str(spend_cap_eur)}})
        _rebuild_after_commit(client)
    return account


# --- the wallet ----------------------------------------------------------------------------------------------


def wallet_credit(*, client: Client, kind: str, amount_micros: int, key: str, minutes: int = 0,
                  charge_id: str = "") -> WalletEntry:
    """Credit the wallet once per `key` (a replay changes nothing). Inside or outside the client's schema."""
    with _schema(client), transaction.atomic():
        try:
            with transaction.atomic():
                entry = WalletEntry.objects.create(key=key, kind=kind, amount_micros=amount_micros, minutes=minutes,
                                                   charge_id=charge_id)
        except IntegrityError:
            return WalletEntry.objects.get(key=key)
        wallet_row(lock=True)
        Wallet.objects.filter(pk=1).update(balance_micros=F("balance_micros") + amount_micros,
                                           recharge_failed_at=None, updated=timezone.now())
        BillingAccount.objects.filter(client_id=client.pk).update(stopped_at=None)
        _rebuild_after_commit(client)
    return entry


def trial_credit_grant(*, client: Client) -> WalletEntry | None:
    """The plan's trial minutes, once per client, as wallet credit at the client's minute price."""
    minutes = int(client.plan.trial_minutes or 0)
    price = pricing.unit_price(client.plan, account_for(client), "voice_minutes")
    if not minutes or price <= 0:
        return None
    return wallet_credit(client=client, kind=WalletEntry.Kind.TRIAL, amount_micros=pricing.micros(minutes, price),
                         minutes=minutes, key=f"trial:{client.pk}")


def _charge(client: Client, *, minutes: int, key: str, description: str) -> tuple[int, str]:
    account = account_for(client)
    amount = pricing.pack_price(client.plan, account, minutes)
    cents = int(amount * 100)
    if cents <= 0:
        raise InvalidInput(_("Voice minutes cost nothing on this plan: no pack is needed."))
    resolved = billing_provider(client)
    customer = account.stripe_customer_id or f"client-{client.pk}"
    result = resolved.provider.charge(customer=customer, amount_cents=cents, currency=client.currency,
                                      description=description, idempotency_key=key)
    return cents, result.provider_id


def pack_buy(*, client: Client, actor: Any, minutes: int, key: str) -> WalletEntry:
    """Buy a minute pack with the card on file; the wallet is credited at once (`key`: one purchase per form)."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can buy minutes."))
    if minutes not in settings.BILLING_MINUTE_PACKS:
        raise InvalidInput(_("Unknown pack."))
    if not account_peek(client).card_on_file:
        raise InvalidInput(_("Add a card first: packs are paid by card."))
    key = f"pack:{key[:60]}"
    with _schema(client):
        found = WalletEntry.objects.filter(key=key).first()
        if found is not None:
            return found
    try:
        cents, charge_id = _charge(client, minutes=minutes, key=key,
                                   description=f"{client.name}: {minutes} minutes")
    except ProviderError as error:
        logger.warning("pack charge failed for client %s: %s", client.pk, error.message)
        raise InvalidInput(_("The card was refused: nothing was charged.")) from None
    entry = wallet_credit(client=client, kind=WalletEntry.Kind.PACK, amount_micros=cents * 10_000, minutes=minutes,
                          key=key, charge_id=charge_id)
    with _schema(client):
        audit_record(action="billing.pack_bought", actor=actor, target=client.slug,
                     data={"minutes": minutes, "amount_cents": cents})
    if billing_provider(client).is_twin:
        invoice_issue(client=client, key=key, lines=[{"label": _("%(n)d voice minutes pack") % {"n": minutes},
                                                      "amount_cents": cents}])
    return entry


def wallet_settings_update(*, client: Client, actor: Any, auto_recharge: bool, threshold_minutes: int,
                           pack_minutes: int) -> Wallet:
    manager_require(client=client, actor=actor, message=_("Only owners and admins can manage billing."))
    if pack_minutes not in settings.BILLING_MINUTE_PACKS:
        raise InvalidInput(_("Unknown pack."))
    if not 0 <= threshold_minutes <= 100_000:
        raise InvalidInput(_("The threshold must be between 0 and 100000 minutes."))
    with _schema(client), transaction.atomic():
        wallet = wallet_row(lock=True)
        wallet.auto_recharge, wallet.threshold_minutes, wallet.pack_minutes = (auto_recharge, threshold_minutes,
                                                                                pack_minutes)
        wallet.recharge_failed_at = None
        wallet.save(update_fields=["auto_recharge", "threshold_minutes", "pack_minutes", "recharge_failed_at",
                                   "updated"])
        audit_record(action="billing.wallet_settings_changed", actor=actor, target=client.slug,
                     data={"auto_recharge": auto_recharge, "threshold_minutes": threshold_minutes,
                           "pack_minutes": pack_minutes})
        _rebuild_after_commit(client)
    return wallet


def recharge_due(client: Client, account: BillingAccount, wallet: Wallet) -> bool:
    price = pricing.unit_price(client.plan, account, "voice_minutes")
    return (wallet.auto_recharge and account.card_on_file and wallet.recharge_failed_at is None and price > 0
            and wallet.balance_micros < pricing.micros(wallet.threshold_minutes, price))


def wallet_recharge(*, client: Client) -> WalletEntry | None:
    """The automatic recharge (a Celery task, in the client's schema): charge one pack when the balance is under
    the threshold. The key is the recharge's number, so two workers racing charge once. A refused card stops
    the recharges (and, with the wallet empty, the usage) and tells the client and the agency."""
    with _schema(client):
        account, wallet = account_for(client), wallet_row()
        if not recharge_due(client, account, wallet):
            return None
        number = WalletEntry.objects.filter(kind=WalletEntry.Kind.RECHARGE).count() + 1
        key = f"recharge:{client.pk}:{number}"
        try:
            cents, charge_id = _charge(client, minutes=wallet.pack_minutes, key=key,
                                       description=f"{client.name}: {wallet.pack_minutes} minutes (auto)")
        except ProviderError as error:
            Wallet.objects.filter(pk=1).update(recharge_failed_at=timezone.now())
            audit_record(action="billing.recharge_failed", target=client.slug, data={"error": error.message[:200]})
            BillingAccount.objects.filter(pk=account.pk).update(card_on_file=False)
            gate_rebuild(client)
            notify(client=client, reason="recharge_failed")
            return None
        entry = wallet_credit(client=client, kind=WalletEntry.Kind.RECHARGE, amount_micros=cents * 10_000,
                              minutes=wallet.pack_minutes, key=key, charge_id=charge_id)
        audit_record(action="billing.recharged", target=client.slug, data={"minutes": wallet.pack_minutes,
                                                                           "amount_cents": cents})
        if billing_provider(client).is_twin:
            invoice_issue(client=client, key=key, lines=[{"label": _("%(n)d voice minutes, automatic recharge") % {
                "n": wallet.pack_minutes}, "amount_cents": cents}])
        return entry


# --- after each usage (apps/billing/usage.py, after the commit) -----------------------------------------------


def after_usage(*, client: Client, record: UsageRecord, state: dict[str, Any]) -> None:
    from apps.billing import tasks

    account, wallet = state["account"], state["wallet"]
    headers = {"_schema_name": client.schema_name}
    due = state["recharge_due"] if "recharge_due" in state else recharge_due(client, account, wallet)
    if due:
        tasks.wallet_recharge_task.apply_async(args=[client.pk], headers=headers)
    if record.metric in pricing.BILLED_METRICS and state["remaining"].get(record.metric, 1) <= 0 \
            and not account.card_on_file:
        usage_stopped(client=client, metric=record.metric, account=account)
    if record.overage_micros and account.stripe_customer_id:
        tasks.meter_send_task.apply_async(args=[client.pk], headers=headers)


def usage_stopped(*, client: Client, metric: str, account: BillingAccount) -> bool:
    """Tell the client and the agency, once a month, that a kind of usage has stopped."""
    period_start = timezone.make_aware(datetime.combine(month_start(), datetime.min.time()))
    account = account_for(client)  # the mirror's account may be the unsaved default: this one is stored
    if account.stopped_at is not None and account.stopped_at >= period_start:
        return False
    if not BillingAccount.objects.filter(pk=account.pk).filter(
            models_q_stopped_before(period_start)).update(stopped_at=timezone.now()):
        return False
    with _schema(client):
        audit_record(action="billing.usage_stopped", target=client.slug, data={"metric": metric})
    notify(client=client, reason="usage_stopped", metric=metric)
    return True


def models_q_stopped_before(moment: datetime) -> Any:
    from django.db.models import Q

    return Q(stopped_at__isnull=True) | Q(stopped_at__lt=moment)


def notify(*, client: Client, reason: str, metric: str = "") -> None:
    """An e-mail to the client's owner and to the agency (BILLING_AGENCY_EMAIL), queued as deliveries."""
    from apps.integrations.services import delivery_queue

    with translation.override(client.default_language):
        subjects = {
            "usage_stopped": _("%(client)s: usage stopped — the wallet is empty and no card can be charged"),
            "recharge_failed": _("%(client)s: the automatic recharge failed"),
            "suspended": _("%(client)s: service suspended for non-payment"),
        }
        subject = subjects[reason] % {"client": client.name}
        body = _("Open the Billing page of your dashboard to add minutes or update your card. Your data is kept.")
        with _schema(client):
            for to in filter(None, [client.owner_email, settings.BILLING_AGENCY_EMAIL]):
                try:
                    delivery_queue(channel="email", to=to, subject=subject, body=body, purpose="billing")
                except InvalidInput:
                    logger.warning("billing notice for client %s not queued: bad address", client.pk)


# --- invoices ------------------------------------------------------------------------------------------------


def invoice_issue(*, client: Client, lines: list[dict[str, Any]], key: str, status: str = Invoice.Status.PAID,
                  period: date | None = None) -> Invoice:
    """A local invoice (offline twin; with Stripe, invoices come from its webhooks). Once per key."""
    period = period or month_start()
    number = f"{client.slug.upper()[:12]}-{period:%Y%m}-{key[-12:]}"
    total = sum(int(line["amount_cents"]) for line in lines)
    found, _created = Invoice.objects.get_or_create(
        client=client, number=number, defaults={"period": period, "status": status, "currency": client.currency,
                                                "total_cents": total, "lines": [{**line, "label": str(line["label"])}
                                                                                for line in lines]})
    return found


def invoice_month_close(*, client: Client, period: date) -> Invoice | None:
    """Offline: the month's invoice for usage beyond the plan and the wallet (what Stripe's metered price
    bills with a card). Once per month."""
    with _schema(client):
        rows = list(UsageCounter.objects.filter(period=period, overage_micros__gt=0))
    lines = [{"label": _("%(usage)s beyond the plan: %(n)d") % {"usage": row.get_metric_display(), "n": row.overage},
              "amount_cents": round(row.overage_micros / 10_000)} for row in rows]
    if not lines:
        return None
    return invoice_issue(client=client, lines=lines, key="usage", period=period,
                         status=Invoice.Status.PAID if account_peek(client).card_on_file else Invoice.Status.OPEN)


def invoices_offline_sweep(*, today: date | None = None) -> int:
    """Offline only (the twin): each active client's fee invoice for this month and last month's usage invoice,
    once each (Celery beat, daily). With Stripe, Stripe issues the invoices and its webhooks bring them here."""
    today = today or timezone.localdate()
    period = month_start(today)
    previous = month_start(period - timedelta(days=1))
    made = 0
    for client in Client.objects.filter(status=Client.Status.ACTIVE).select_related("plan"):
        if not billing_provider(client).is_twin or not account_peek(client).usable:
            continue
        if client.plan.monthly_price_eur:
            invoice_issue(client=client, key=f"fee-{period:%Y%m}", period=period, lines=[{
                "label": _("Plan %(name)s, monthly fee") % {"name": client.plan.name},
                "amount_cents": int(client.plan.monthly_price_eur * 100)}])
            made += 1
        made += invoice_month_close(client=client, period=previous) is not None
    return made


def invoice_from_stripe(*, client: Client, data: dict[str, Any]) -> Invoice:
    """Keep a Stripe invoice (a webhook's `invoice` object) as the client's invoice row."""
    status = data.get("status") or Invoice.Status.OPEN
    if status not in Invoice.Status.values:
        status = Invoice.Status.OPEN
    created = datetime.fromtimestamp(int(data.get("created") or timezone.now().timestamp()), tz=UTC)
    lines = [{"label": str(line.get("description") or "")[:200], "amount_cents": int(line.get("amount") or 0)}
             for line in ((data.get("lines") or {}).get("data") or [])[:50]]
    invoice, _created = Invoice.objects.update_or_create(
        client=client, number=str(data.get("number") or data["id"])[:40],
        defaults={"period": month_start(created.date()), "status": status,
                  "currency": str(data.get("currency") or client.currency).upper()[:3],
                  "total_cents": int(data.get("total") or data.get("amount_due") or 0), "lines": lines,
                  "stripe_invoice_id": str(data["id"])[:64],
                  "hosted_url": str(data.get("hosted_invoice_url") or "")[:500], "created": created})
    return invoice
