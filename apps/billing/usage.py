"""The one-line API for everything billable — call it where the usage happens:

    usage_require(kind="call_minute")                         # before: raises QuotaExceeded / ServicePaused
    usage_allowed(kind="sms")                                 # before: True / False, nothing raised
    usage_record(kind="call_minute", quantity=3, key=f"call:{call.sid}")   # after: once per key, ever

Inside a client's schema (`tenant_context`, a Celery task sent from it, a consumer's `client_db`) the client is
the active one; pass `client=` elsewhere. Kinds: apps/billing/pricing.py (`KIND_METRIC`).

The ledger row and the month's counter are written in one transaction; the quantity is split in the
consumption order **included in the plan → wallet → overage** (billed later, metered to the billing provider).
The check before a turn or a call reads a Redis mirror of what is left (`gate.py`), never the database: the
database is the truth, the mirror is rebuilt from it after every write and whenever it is missing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.billing import gate, pricing
from apps.billing.models import BillingAccount
from apps.clients.models import Client
from apps.core.errors import QuotaExceeded, ServicePaused
from apps.usage.models import UsageCounter, UsageRecord, Wallet
from apps.usage.services import month_start

logger = logging.getLogger(__name__)
MAX_KEY = 100  # Stripe's meter event identifier is at most 100 characters


def _client(client: Any) -> Any:
    if client is not None:
        return client
    tenant = getattr(connection, "tenant", None)
    if tenant is None or connection.schema_name == "public":
        raise RuntimeError("usage_* needs a client: pass client= or call inside the client's schema")
    if not isinstance(tenant, Client):  # schema_context's stand-in: the row behind the schema
        return Client.objects.select_related("plan").get(schema_name=connection.schema_name)
    return tenant


def _defaults(client: Any) -> dict[str, Any]:
    trial_days = int(client.plan.trial_days or 0)
    if trial_days:
        return {"status": BillingAccount.Status.TRIALING,
                "trial_ends": client.created + timezone.timedelta(days=trial_days)}
    return {"status": BillingAccount.Status.ACTIVE}


def account_peek(client: Any) -> BillingAccount:
    """The client's billing account, or (none yet) the one it would get, unsaved: reads never write."""
    found = BillingAccount.objects.filter(client_id=client.pk).first()
    return found if found is not None else BillingAccount(client_id=client.pk, **_defaults(client))


def account_for(client: Any) -> BillingAccount:
    """The client's billing account (public schema), created on first use: a trial if its plan has one."""
    found = BillingAccount.objects.filter(client_id=client.pk).first()
    if found is not None:
        return found
    defaults = _defaults(client)
    try:
        with transaction.atomic():
            return BillingAccount.objects.create(client_id=client.pk, **defaults)
    except IntegrityError:
        return BillingAccount.objects.get(client_id=client.pk)


def wallet_row(*, lock: bool = False) -> Wallet:
    rows = Wallet.objects.select_for_update() if lock else Wallet.objects
    found = rows.filter(pk=1).first()
    if found is None:
        Wallet.objects.get_or_create(pk=1)
        found = rows.get(pk=1)
    return found


def _in_schema(client: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
    if connection.schema_name == client.schema_name:
        return fn(client, *args, **kwargs)
    with tenant_context(client):
        return fn(client, *args, **kwargs)


# --- before ---------------------------------------------------------------------------------------------------


def usage_allowed(*, kind: str, quantity: int = 1, client: Any = None, refresh: bool = True) -> bool:
    """May `quantity` more units of `kind` be used now? One Redis read (p99 well under a millisecond). With
    `refresh=False` (an event loop, which must not touch the database) a missing mirror allows."""
    client = _client(client)
    decision = gate.gate_check(client.pk, pricing.metric_for(kind), quantity)
    if decision is None:
        if not refresh:
            return True
        _in_schema(client, gate_rebuild)
        decision = gate.gate_check(client.pk, pricing.metric_for(kind), quantity)
    return bool(decision and decision.allowed)


def usage_require(*, kind: str, quantity: int = 1, client: Any = None, refresh: bool = True) -> None:
    """As `usage_allowed`, raising the refusal: `ServicePaused` (403) or `QuotaExceeded` (429), translated."""
    client = _client(client)
    metric = pricing.metric_for(kind)
    decision = gate.gate_check(client.pk, metric, quantity)
    if decision is None:
        if not refresh:
            return
        _in_schema(client, gate_rebuild)
        decision = gate.gate_check(client.pk, metric, quantity)
    if decision is None or decision.allowed:
        return
    if decision.state == gate.PAUSED:
        raise ServicePaused()
    raise QuotaExceeded(refusal_message(metric), retry_after=_seconds_to_next_month())


def refusal_message(metric: str) -> str:
    messages = {
        "voice_minutes": _("This month's voice minutes are used up. The business has been told; please try "
                           "again later or contact it directly."),
        "messages": _("This month's messages are used up: nothing more can be sent until the account is topped "
                      "up."),
        "chat_turns": _("This month's chat replies are used up. The business has been told; please contact it "
                        "directly."),
        "conversations": _("This month's conversations are used up. Please contact the business directly."),
    }
    return messages.get(metric, _("The client's plan quota is used up for this period."))


def _seconds_to_next_month() -> int:
    now = timezone.localtime()
    first = (now.replace(day=28) + timezone.timedelta(days=4)).replace(day=1, hour=0, minute=0, second=0,
                                                                        microsecond=0)
    return max(60, int((first - now).total_seconds()))


# --- the mirror ---------------------------------------------------------------------------------------------


def gate_state(client: Any, *, period: date | None = None) -> dict[str, Any]:
    """What is left this month, per metric, from the database (inside the client's schema)."""
    period = period or month_start()
    account = account_peek(client)
    plan = client.plan
    wallet = wallet_row()
    counters = {row.metric: row for row in UsageCounter.objects.filter(period=period)}
    overage_spent = sum(row.overage_micros for row in counters.values())
    remaining: dict[str, int] = {}
    for metric in (*pricing.BILLED_METRICS, "conversations"):
        row = counters.get(metric)
        if metric == "conversations":
            remaining[metric] = max(0, pricing.included(plan, metric) - (row.value if row else 0))
            continue
        left = max(0, pricing.included(plan, metric) - (row.included if row else 0))
        price = pricing.unit_price(plan, account, metric)
        if price <= 0:
            remaining[metric] = pricing.UNLIMITED
            continue
        room = pricing.units_affordable(wallet.balance_micros, price)
        if account.card_on_file:
            if account.spend_cap_eur is None:
                room = pricing.UNLIMITED
            else:
                cap = pricing.micros(1, account.spend_cap_eur) - overage_spent
                room += pricing.units_affordable(max(0, cap), price)
        remaining[metric] = min(pricing.UNLIMITED, left + room)
    return {"state": gate.OPEN if account.usable else gate.PAUSED, "remaining": remaining, "period": period,
            "account": account, "wallet": wallet}


def gate_rebuild(client: Any) -> dict[str, Any]:
    from apps.billing.services import recharge_due

    state = gate_state(client)
    # whether an automatic recharge is due: kept for the usages that leave the wallet alone (`_after`)
    state["recharge_due"] = recharge_due(client, state["account"], state["wallet"])
    gate.gate_store(client.pk, state["period"], state["state"], state["remaining"],
                    extra={"recharge_due": "1" if state["recharge_due"] else "0"})
    return state


def gate_forget(client: Any) -> None:
    gate.gate_clear(client.pk)


# --- after ----------------------------------------------------------------------------------------------------


def usage_record(*, kind: str, quantity: int, key: str, client: Any = None,
                 occurred: datetime | None = None) -> UsageRecord:
    """Write one billable usage, once per `key` (a second call with the same key changes nothing and returns
    the first row). Usage that happened is always recorded, even beyond a cap: the caps are checked before."""
    client = _client(client)
    metric = pricing.metric_for(kind)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0 or quantity > 10**9:
        raise ValueError("quantity must be a whole number between 0 and 10^9")
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"an idempotency key of 1 to {MAX_KEY} characters is required")
    return _in_schema(client, _record, kind, metric, quantity, key, occurred or timezone.now())


def _record(client: Any, kind: str, metric: str, quantity: int, key: str, occurred: datetime) -> UsageRecord:
    """The ledger row and the month's counter, in the caller's transaction (its own when there is none), in three
    statements on the common path: lock the counter and read the account (one statement), insert the row once
    per key (`ON CONFLICT DO NOTHING`: no savepoint), add it to the counter. Beyond the plan, the wallet too."""
    period = month_start(timezone.localdate(occurred))
    with transaction.atomic(savepoint=False):
        counter, account = _counter_locked(client, metric, period)
        take_included = min(quantity, max(0, pricing.included(client.plan, metric) - counter.included))
        if metric == "conversations":
            take_included = quantity
        rest = quantity - take_included
        price = pricing.unit_price(client.plan, account, metric)
        take_wallet, wallet_micros, wallet = 0, 0, None
        if rest and price > 0:
            wallet = wallet_row(lock=True)
            take_wallet = min(rest, pricing.units_affordable(wallet.balance_micros, price))
            wallet_micros = pricing.micros(take_wallet, price)
        overage = rest - take_wallet
        unit_cost = pricing.unit_cost(metric)
        record = UsageRecord(key=key, kind=kind, metric=metric, quantity=quantity, occurred=occurred, period=period,
                             included=take_included, wallet=take_wallet, overage=overage, unit_price=price,
                             unit_cost=unit_cost, wallet_micros=wallet_micros,
                             overage_micros=pricing.micros(overage, price),
                             cost_micros=pricing.micros(quantity, unit_cost))
        if not _insert_once(record):  # this key was recorded before: nothing changes
            return UsageRecord.objects.get(key=key)
        if wallet is not None and take_wallet:
            Wallet.objects.filter(pk=wallet.pk).update(balance_micros=wallet.balance_micros - wallet_micros,
                                                       updated=timezone.now())
        counter.value += quantity
        counter.included += take_included
        counter.wallet += take_wallet
        counter.overage += overage
        counter.wallet_micros += wallet_micros
        counter.overage_micros += record.overage_micros
        counter.cost_micros += record.cost_micros
        counter.save(update_fields=["value", "included", "wallet", "overage", "wallet_micros", "overage_micros",
                                    "cost_micros", "updated"])
        transaction.on_commit(lambda: _after(client, record, account))
    return record


_COUNTER_FIELDS = [field for field in UsageCounter._meta.concrete_fields]
_ACCOUNT_FIELDS = [field for field in BillingAccount._meta.concrete_fields]
_RECORD_FIELDS = [field for field in UsageRecord._meta.concrete_fields if not field.primary_key]


def _counter_locked(client: Any, metric: str, period: date) -> tuple[UsageCounter, BillingAccount]:
    """The month's counter of `metric`, created if missing and locked (an upsert locks the row it returns, as
    SELECT … FOR UPDATE would), and the client's billing account (public schema; none yet: the one it would
    get, unsaved, as `account_peek`) — in one statement."""
    quote = connection.ops.quote_name
    counter_columns = ", ".join(f"counter.{quote(field.column)}" for field in _COUNTER_FIELDS)
    account_columns = ", ".join(f"account.{quote(field.column)}" for field in _ACCOUNT_FIELDS)
    table = quote(UsageCounter._meta.db_table)
    sql = (f"WITH counter AS (INSERT INTO {table} (metric, period, value, included, wallet, overage, wallet_micros, "
           f"overage_micros, cost_micros, updated) VALUES (%s, %s, 0, 0, 0, 0, 0, 0, 0, now()) "
           f"ON CONFLICT (metric, period) DO UPDATE SET metric = EXCLUDED.metric RETURNING *) "
           f"SELECT {counter_columns}, {account_columns} FROM counter LEFT JOIN "
           f"public.{quote(BillingAccount._meta.db_table)} AS account ON account.client_id = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [metric, period, client.pk])
        row = cursor.fetchone()
    converted = []
    for field, value in zip([*_COUNTER_FIELDS, *_ACCOUNT_FIELDS], row, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, None, connection)
        converted.append(value)
    counter = UsageCounter.from_db("default", [f.attname for f in _COUNTER_FIELDS], converted[:len(_COUNTER_FIELDS)])
    account_values = converted[len(_COUNTER_FIELDS):]
    if account_values[0] is None:
        return counter, BillingAccount(client_id=client.pk, **_defaults(client))
    return counter, BillingAccount.from_db("default", [f.attname for f in _ACCOUNT_FIELDS], account_values)


def _insert_once(record: UsageRecord) -> bool:
    """Insert the ledger row unless its key is there already (then False): no savepoint to catch a duplicate."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _RECORD_FIELDS)
    values = [field.get_db_prep_save(field.pre_save(record, True), connection) for field in _RECORD_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(UsageRecord._meta.db_table)} ({columns}) VALUES "
                       f"({', '.join(['%s'] * len(values))}) ON CONFLICT (key) DO NOTHING RETURNING id", values)
        row = cursor.fetchone()
    if row is None:
        return False
    record.pk = row[0]
    record._state.adding, record._state.db = False, "default"
    return True


def _after(client: Any, record: UsageRecord, account: BillingAccount) -> None:
    """After the commit: the mirror, an automatic recharge, 'usage stopped' news, the meter."""
    from apps.billing import services

    try:
        state = _spent(client, record, account) or _in_schema(client, gate_rebuild)
        services.after_usage(client=client, record=record, state=state)
    except Exception:  # noqa: BLE001 - the usage is recorded; the mirror is rebuilt on the next miss
        logger.exception("billing follow-up failed for client %s after %s", client.pk, record.key)
        gate.gate_clear(client.pk)


def _spent(client: Any, record: UsageRecord, account: BillingAccount) -> dict[str, Any] | None:
    """A usage taken wholly from the plan's included units leaves the wallet, the overage and the account as they
    were: only its metric's "left" moves, by its quantity. The mirror is decremented in place, and the follow-up
    gets what it needs from it (what is left, whether a recharge is due, the account read with the counter).
    None (the mirror is rebuilt from the database) for any other usage, or when the mirror is missing or stale."""
    if record.wallet or record.overage:
        return None
    spent = gate.gate_spend(client.pk, record.period, record.metric, record.quantity, pricing.UNLIMITED)
    if spent is None or spent[1] not in ("0", "1"):
        return None
    left, due = spent
    return {"remaining": {} if left is None else {record.metric: left}, "account": account, "wallet": None,
            "recharge_due": due == "1"}
