"""Billing reads: the client's Billing page, and the agency's view across clients (revenue, usage, cost and
margin per client and month). The agency's view is the one reader across schemas, for staff."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l
from django_tenants.utils import tenant_context

from apps.billing import pricing
from apps.billing.models import BillingAccount, Invoice
from apps.billing.usage import account_peek, gate_state
from apps.clients.models import Client, Plan
from apps.usage.models import UsageCounter, UsageRecord, WalletEntry
from apps.usage.services import month_start

METRIC_LABELS = {"voice_minutes": _l("Voice minutes"), "messages": _l("Messages"), "chat_turns": _l("Chat replies"),
                 "llm_tokens": _l("Language-model tokens"), "conversations": _l("Conversations")}


def months_back(count: int, *, until: date | None = None) -> list[date]:
    first = month_start(until)
    months = [first]
    for _index in range(count - 1):
        first = month_start(first - timezone.timedelta(days=1))
        months.append(first)
    return list(reversed(months))


def _eur(micros: int) -> Decimal:
    return (Decimal(micros) / 1_000_000).quantize(Decimal("0.01"))


@dataclass
class Meter:
    metric: str
    label: str
    included: int
    used: int
    from_wallet: int
    overage: int
    overage_eur: Decimal
    price: Decimal
    left: int
    daily: list[tuple[str, float]] = field(default_factory=list)
    monthly: list[tuple[str, float]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        if self.included <= 0:
            return 100 if self.used else 0
        return min(100, round(100 * self.used / self.included))

    @property
    def unlimited(self) -> bool:
        return self.left >= pricing.UNLIMITED


def billing_overview(*, client: Client) -> dict[str, Any]:
    """Everything the Billing page shows (inside the client's schema)."""
    state = gate_state(client)
    account, wallet = state["account"], state["wallet"]
    period = state["period"]
    months = months_back(6)
    counters = defaultdict(dict)
    for row in UsageCounter.objects.filter(period__gte=months[0]):
        counters[row.metric][row.period] = row
    days = defaultdict(dict)
    for row in (UsageRecord.objects.filter(period=period).annotate(day=TruncDay("occurred")).values("metric", "day")
                .annotate(total=Sum("quantity"))):
        days[row["metric"]][timezone.localdate(row["day"]) if timezone.is_aware(row["day"]) else row["day"].date()] \
            = row["total"]
    today = timezone.localdate()
    meters = []
    for metric in ("voice_minutes", "chat_turns", "messages", "conversations", "llm_tokens"):
        row = counters[metric].get(period)
        meters.append(Meter(
            metric=metric, label=str(METRIC_LABELS[metric]), included=pricing.included(client.plan, metric),
            used=row.value if row else 0, from_wallet=row.wallet if row else 0, overage=row.overage if row else 0,
            overage_eur=_eur(row.overage_micros if row else 0),
            price=pricing.unit_price(client.plan, account, metric), left=state["remaining"].get(metric, 0),
            daily=[(str(day.day), float(days[metric].get(day, 0)))
                   for day in (period + timezone.timedelta(days=n) for n in range((today - period).days + 1))],
            monthly=[(f"{month:%m/%y}", float(counters[metric][month].value if month in counters[metric] else 0))
                     for month in months]))
    minute_price = pricing.unit_price(client.plan, account, "voice_minutes")
    return {
        "account": account, "plan": client.plan, "meters": [m for m in meters if m.metric != "llm_tokens" or m.used],
        "wallet": wallet, "wallet_eur": _eur(wallet.balance_micros),
        "wallet_minutes": pricing.units_affordable(wallet.balance_micros, minute_price) if minute_price > 0 else None,
        "wallet_entries": list(WalletEntry.objects.all()[:10]),
        "invoices": list(Invoice.objects.filter(client=client)[:24]),
        "plans": list(Plan.objects.filter(is_public=True)),
        "packs": [{"minutes": n, "price": pricing.pack_price(client.plan, account, n)}
                  for n in settings.BILLING_MINUTE_PACKS],
        "period": period, "paused": state["state"] != "open",
    }


def billing_banner(*, client: Client) -> dict[str, Any] | None:
    """The dashboard's banner: a failed payment (grace), a suspension, usage stopped. One query."""
    account = BillingAccount.objects.filter(client_id=client.pk).first()
    if account is None:
        return None
    if account.status == BillingAccount.Status.PAST_DUE:
        return {"level": "warn", "kind": "past_due", "until": account.grace_until}
    if account.status in {BillingAccount.Status.SUSPENDED, BillingAccount.Status.CANCELED}:
        return {"level": "bad", "kind": "suspended"}
    if account.stopped_at is not None and account.stopped_at.date() >= month_start():
        return {"level": "warn", "kind": "stopped"}
    return None


# --- the agency's view --------------------------------------------------------------------------------------


@dataclass
class ClientMonth:
    client: Client
    month: date
    fee: Decimal
    overage: Decimal
    packs: Decimal
    cost: Decimal
    usage: dict[str, int]

    @property
    def revenue(self) -> Decimal:
        return self.fee + self.overage + self.packs

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> int | None:
        return round(100 * self.margin / self.revenue) if self.revenue else None


def agency_report(*, months: int = 6) -> dict[str, Any]:
    """Per client and month: fee, overage billed, packs sold (revenue), the agency's cost, the margin and the
    usage. Reads each active client's schema once (staff only)."""
    span = months_back(months)
    rows: list[ClientMonth] = []
    clients = list(Client.objects.filter(status=Client.Status.ACTIVE).select_related("plan").order_by("name"))
    accounts = {a.client_id: a for a in BillingAccount.objects.filter(client__in=clients)}
    for client in clients:
        account = accounts.get(client.pk) or account_peek(client)
        with tenant_context(client):
            counters = defaultdict(dict)
            for row in UsageCounter.objects.filter(period__gte=span[0]):
                counters[row.period][row.metric] = row
            packs = defaultdict(int)
            for entry in WalletEntry.objects.filter(created__date__gte=span[0]).exclude(
                    kind__in=[WalletEntry.Kind.TRIAL, WalletEntry.Kind.ADJUSTMENT]):
                packs[month_start(timezone.localdate(entry.created))] += entry.amount_micros
        started = month_start(timezone.localdate(client.created))
        for month in span:
            metrics = counters.get(month, {})
            billed = (month >= started or bool(metrics)) and account.status != BillingAccount.Status.CANCELED
            rows.append(ClientMonth(
                client=client, month=month, fee=client.plan.monthly_price_eur if billed else Decimal(0),
                overage=_eur(sum(r.overage_micros for r in metrics.values())), packs=_eur(packs.get(month, 0)),
                cost=_eur(sum(r.cost_micros for r in metrics.values())),
                usage={metric: r.value for metric, r in metrics.items()}))
    totals = []
    for month in span:
        of_month = [row for row in rows if row.month == month]
        revenue = sum((row.revenue for row in of_month), Decimal(0))
        cost = sum((row.cost for row in of_month), Decimal(0))
        totals.append({"month": month, "revenue": revenue, "cost": cost, "margin": revenue - cost})
    current = [row for row in rows if row.month == span[-1]]
    return {"months": span, "rows": rows, "totals": totals, "current": current, "accounts": accounts}
