"""The demo's billing (offline twin), for `manage.py demo_data`: the agency's prices, a card, a minute pack,
three months of usage through the ledger (idempotent keys: running it twice adds nothing) and last month's
invoices."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import BillingAccount
from apps.billing.selectors import months_back
from apps.billing.usage import account_for, usage_record
from apps.clients.models import Client
from apps.usage.models import UsageRecord, WalletEntry


def demo_billing(*, client: Client, spec: dict[str, Any], staff: Any) -> None:
    account = account_for(client)
    if not account.prices and account.markup_percent is None:
        services.pricing_set(client=client, actor=staff, prices={k: Decimal(v) for k, v in spec["prices"].items()},
                             markup_percent=Decimal(spec["markup_percent"]) if spec["markup_percent"] else None,
                             spend_cap_eur=None)
    if spec["card"]:
        BillingAccount.objects.filter(pk=account.pk).update(card_on_file=True)
    if spec["pack_minutes"]:
        with tenant_context(client):
            bought = WalletEntry.objects.filter(key="pack:demo").exists()
        if not bought:
            services.pack_buy(client=client, actor=staff, minutes=spec["pack_minutes"], key="demo")
    today = timezone.localdate()
    first = months_back(3)[0]
    day, index = first, 0
    with tenant_context(client):
        if UsageRecord.objects.filter(key__startswith="demo:").exists():
            day = today + timedelta(days=1)  # made by an earlier run: the keys would add nothing anyway
        while day <= today:
            chat, minutes, messages = spec["pattern"][index % len(spec["pattern"])]
            moment = timezone.make_aware(datetime.combine(day, time(11, 0)))
            for kind, quantity in (("chat_turn", chat), ("voice_minute", minutes), ("sms", messages)):
                if quantity:
                    usage_record(kind=kind, quantity=quantity, key=f"demo:{kind}:{day:%Y%m%d}", occurred=moment)
            day += timedelta(days=1)
            index += 1
    for month in months_back(3)[:-1]:
        services.invoice_issue(client=client, key=f"fee-{month:%Y%m}", period=month, lines=[
            {"label": f"{client.plan.name}", "amount_cents": int(client.plan.monthly_price_eur * 100)}])
        services.invoice_month_close(client=client, period=month)
