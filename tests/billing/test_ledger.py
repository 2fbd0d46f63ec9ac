"""The usage ledger: one row per key, the consumption order, the caps checked before (a widget turn refused with
429 and a clear message, a voice session refused, a paused client refused politely), rebilling prices, the
wallet (packs, trial credit, automatic recharge), 'usage stopped' news, isolation across clients."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import BillingAccount, Invoice
from apps.billing.usage import account_for, usage_allowed, usage_record, usage_require
from apps.conversations.models import Conversation, Message
from apps.core.errors import InvalidInput, PermissionDenied, QuotaExceeded, ServicePaused
from apps.integrations.models import Delivery
from apps.usage.models import UsageCounter, UsageRecord, Wallet, WalletEntry
from apps.usage.services import month_start, usage_increment
from tests.widget.test_api import SHOP, call, start, widget  # noqa: F401  (the widget fixture)

pytestmark = pytest.mark.django_db


def counter(client, metric):
    with tenant_context(client):
        return UsageCounter.objects.filter(metric=metric, period=month_start()).first()


def fill(client, metric, amount):
    """Use `amount` of the plan's allowance without billing (as earlier usage would have)."""
    with tenant_context(client):
        usage_increment(metric=metric, amount=amount)
    services.gate_rebuild_for(client)


def test_it_records_a_key_once_and_counts_it_once(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.client_a):
        first = usage_record(kind="sms", quantity=1, key="delivery:77")
        again = usage_record(kind="sms", quantity=1, key="delivery:77")
        assert first.pk == again.pk and UsageRecord.objects.filter(key="delivery:77").count() == 1
    row = counter(cast.client_a, "messages")
    assert (row.value, row.included) == (1, 1)


def test_it_draws_on_the_plan_then_the_wallet_then_overage(cast, django_capture_on_commit_callbacks):
    client = cast.client_a  # pro: 300 minutes included at 0.20 € beyond
    fill(client, "voice_minutes", client.plan.voice_minutes - 2)
    services.wallet_credit(client=client, kind=WalletEntry.Kind.ADJUSTMENT, amount_micros=600_000, key="gift:1")
    account_for(client)
    BillingAccount.objects.filter(client=client).update(card_on_file=True)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        record = usage_record(kind="call_minute", quantity=7, key="call:CA1")
        wallet = Wallet.objects.get(pk=1)
    assert (record.included, record.wallet, record.overage) == (2, 3, 2)  # 0.60 € buys 3 minutes at 0.20 €
    assert (record.wallet_micros, record.overage_micros) == (600_000, 400_000) and wallet.balance_micros == 0
    assert record.cost_micros == 7 * 60_000  # the agency's cost, 0.06 € a minute
    row = counter(client, "voice_minutes")
    assert (row.included, row.wallet, row.overage, row.overage_micros) == (client.plan.voice_minutes, 3, 2, 400_000)


def test_it_refuses_a_widget_turn_at_the_cap_with_429_and_a_clear_message(widget):  # noqa: F811
    client = widget.client_a
    conversation = start(widget)
    fill(client, "chat_turns", client.plan.chat_turns)
    with tenant_context(client):
        before = Message.objects.count()
    response = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
    assert response.status_code == 429 and response.json()["error"]["code"] == "quota_exceeded"
    assert "chat replies are used up" in response.json()["error"]["message"]
    assert int(response["Retry-After"]) >= 60
    with tenant_context(client):
        assert Message.objects.count() == before  # refused before anything was stored or generated
    response = call("POST", "messages", widget.pk_a, body={"text": "Hola"}, token=conversation["token"],
                    accept="application/json")
    assert response.status_code == 429


def test_the_refusal_is_in_the_visitors_language(widget):  # noqa: F811
    conversation = start(widget)
    fill(widget.client_a, "chat_turns", widget.client_a.plan.chat_turns)
    http_headers = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    from django.test import Client as HttpClient

    response = HttpClient().post("/widget/v1/messages", '{"text": "Bonjour"}', content_type="application/json",
                                 HTTP_X_VOCALIA_KEY=widget.pk_a, HTTP_ORIGIN=SHOP,
                                 HTTP_X_VOCALIA_TOKEN=conversation["token"], **http_headers)
    assert response.status_code == 429
    assert "réponses" in response.json()["error"]["message"]


def test_a_widget_turn_is_billed_once_as_a_chat_reply(widget):  # noqa: F811
    conversation = start(widget)
    response = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
    assert response.status_code == 200
    with tenant_context(widget.client_a):
        rows = list(UsageRecord.objects.filter(kind="chat_turn"))
        assert len(rows) == 1 and rows[0].key.startswith("turn:") and rows[0].included == 1
        assert UsageRecord.objects.filter(kind="conversation", key=f"conversation:{conversation['conversation']}"
                                          ).count() == 1


def test_with_a_card_usage_goes_on_beyond_the_plan_as_overage_up_to_the_spend_cap(cast):
    client = cast.client_a
    fill(client, "chat_turns", client.plan.chat_turns)
    assert not usage_allowed(client=client, kind="chat_turn")
    account_for(client)
    BillingAccount.objects.filter(client=client).update(card_on_file=True)
    services.gate_rebuild_for(client)
    assert usage_allowed(client=client, kind="chat_turn", quantity=10**6)
    services.pricing_set(client=client, actor=cast.staff, prices={"chat_turns": Decimal("0.05")},
                         markup_percent=None, spend_cap_eur=Decimal("1.00"))
    services.gate_rebuild_for(client)
    assert usage_allowed(client=client, kind="chat_turn", quantity=20)  # 20 × 0.05 € = the 1 € cap
    assert not usage_allowed(client=client, kind="chat_turn", quantity=21)


def test_a_paused_client_is_refused_politely_and_its_data_kept(widget):  # noqa: F811
    conversation = start(widget)
    services.subscription_apply(client=widget.client_a, status=BillingAccount.Status.SUSPENDED, source="test")
    services.gate_rebuild_for(widget.client_a)
    response = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
    assert response.status_code == 403 and response.json()["error"]["code"] == "service_paused"
    assert "paused" in response.json()["error"]["message"]
    assert call("POST", "conversations", widget.pk_a, body={"language": "fr"}).status_code == 403
    with tenant_context(widget.client_a):
        assert Conversation.objects.filter(pk=conversation["conversation"]).exists()
    with pytest.raises(ServicePaused):
        usage_require(client=widget.client_a, kind="call_minute")


def test_the_agency_sets_a_price_or_a_markup_over_its_cost(cast, django_capture_on_commit_callbacks):
    client = cast.client_a
    fill(client, "messages", client.plan.included_messages)
    account_for(client)
    BillingAccount.objects.filter(client=client).update(card_on_file=True)
    services.pricing_set(client=client, actor=cast.staff, prices={}, markup_percent=Decimal("50"), spend_cap_eur=None)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        marked_up = usage_record(kind="sms", quantity=1, key="delivery:1")
    services.pricing_set(client=client, actor=cast.staff, prices={"messages": Decimal("0.11")}, markup_percent=None,
                         spend_cap_eur=None)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        priced = usage_record(kind="whatsapp", quantity=1, key="delivery:2")
    assert marked_up.unit_price == Decimal("0.03") and marked_up.overage_micros == 30_000  # 0.02 € cost + 50 %
    assert priced.unit_price == Decimal("0.11") and priced.overage_micros == 110_000
    with pytest.raises(PermissionDenied):
        services.pricing_set(client=client, actor=cast.alice, prices={}, markup_percent=Decimal("900"),
                             spend_cap_eur=None)
    with pytest.raises(InvalidInput):
        services.pricing_set(client=client, actor=cast.staff, prices={"messages": Decimal("1e30")},
                             markup_percent=None, spend_cap_eur=None)


def test_an_empty_wallet_without_a_card_stops_usage_and_tells_the_client_and_the_agency(
        cast, django_capture_on_commit_callbacks, settings):
    settings.BILLING_AGENCY_EMAIL = "billing@agency.test"
    client = cast.client_a
    client.owner_email = "alice@a.test"
    client.save(update_fields=["owner_email"])
    fill(client, "voice_minutes", client.plan.voice_minutes - 1)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        usage_record(kind="voice_minute", quantity=1, key="widget-voice:1:a")
    with tenant_context(client):
        notices = list(Delivery.objects.filter(purpose="billing").values_list("to", flat=True))
    assert sorted(notices) == ["alice@a.test", "billing@agency.test"]
    assert account_for(client).stopped_at is not None
    with pytest.raises(QuotaExceeded) as refused:
        usage_require(client=client, kind="voice_minute")
    assert "voice minutes are used up" in refused.value.message
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        usage_record(kind="voice_minute", quantity=1, key="widget-voice:1:b")  # told once a month, not twice
    with tenant_context(client):
        assert Delivery.objects.filter(purpose="billing").count() == 2
    services.wallet_credit(client=client, kind=WalletEntry.Kind.ADJUSTMENT, amount_micros=2_000_000, key="gift:2")
    services.gate_rebuild_for(client)
    assert usage_allowed(client=client, kind="voice_minute", quantity=10)  # 2 € at 0.20 €
    assert account_for(client).stopped_at is None


def test_a_pack_needs_a_card_and_credits_the_wallet_once(cast):
    client = cast.client_a
    with pytest.raises(InvalidInput):
        services.pack_buy(client=client, actor=cast.alice, minutes=100, key="form-1")
    services.card_set_offline(client=client, actor=cast.alice, on=True)
    with pytest.raises(PermissionDenied):
        services.pack_buy(client=client, actor=cast.bob, minutes=100, key="form-1")
    with pytest.raises(InvalidInput):
        services.pack_buy(client=client, actor=cast.alice, minutes=7, key="form-1")
    entry = services.pack_buy(client=client, actor=cast.alice, minutes=100, key="form-1")
    again = services.pack_buy(client=client, actor=cast.alice, minutes=100, key="form-1")  # a double submit
    assert entry.pk == again.pk and entry.amount_micros == 20_000_000  # 100 × 0.20 €
    with tenant_context(client):
        assert Wallet.objects.get(pk=1).balance_micros == 20_000_000
    assert Invoice.objects.filter(client=client, total_cents=2000).count() == 1


def test_the_wallet_recharges_itself_under_its_threshold(cast, django_capture_on_commit_callbacks):
    client = cast.client_a
    services.card_set_offline(client=client, actor=cast.alice, on=True)
    services.wallet_settings_update(client=client, actor=cast.alice, auto_recharge=True, threshold_minutes=20,
                                    pack_minutes=100)
    services.wallet_credit(client=client, kind=WalletEntry.Kind.ADJUSTMENT, amount_micros=5_000_000, key="gift:3")
    fill(client, "voice_minutes", client.plan.voice_minutes)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(client):
        usage_record(kind="call_minute", quantity=10, key="call:CA2")  # 25 → 15 minutes left: under 20
    with tenant_context(client):
        entries = list(WalletEntry.objects.filter(kind=WalletEntry.Kind.RECHARGE))
        balance = Wallet.objects.get(pk=1).balance_micros
    assert len(entries) == 1 and entries[0].minutes == 100
    assert balance == 5_000_000 - 2_000_000 + 20_000_000


def test_a_trial_credits_its_minutes_once(cast):
    client = cast.client_b  # starter: 14 days, 30 minutes at 0.25 €
    services.subscription_apply(client=client, status="trialing", source="test")
    services.subscription_apply(client=client, status="trialing", source="test")
    with tenant_context(client):
        trial = WalletEntry.objects.get(kind=WalletEntry.Kind.TRIAL)
        assert trial.minutes == 30 and trial.amount_micros == 7_500_000
        assert Wallet.objects.get(pk=1).balance_micros == 7_500_000


def test_one_clients_usage_never_moves_anothers(cast, django_capture_on_commit_callbacks):
    fill(cast.client_a, "chat_turns", cast.client_a.plan.chat_turns)
    assert not usage_allowed(client=cast.client_a, kind="chat_turn")
    assert usage_allowed(client=cast.client_b, kind="chat_turn")
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.client_b):
        usage_record(kind="sms", quantity=1, key="delivery:1")
    with tenant_context(cast.client_a):
        assert not UsageRecord.objects.filter(key="delivery:1").exists()
    with pytest.raises(PermissionDenied):
        services.wallet_settings_update(client=cast.client_a, actor=cast.carol, auto_recharge=True,
                                        threshold_minutes=1, pack_minutes=100)


@pytest.mark.parametrize("quantity", [-1, 10**10, 1.5, True])
def test_it_refuses_absurd_quantities(cast, quantity):
    with tenant_context(cast.client_a), pytest.raises(ValueError):
        usage_record(kind="sms", quantity=quantity, key="x")


def test_it_refuses_unknown_kinds_and_bad_keys(cast):
    with tenant_context(cast.client_a):
        with pytest.raises(ValueError):
            usage_record(kind="teleportation", quantity=1, key="x")
        with pytest.raises(ValueError):
            usage_record(kind="sms", quantity=1, key="k" * 101)


@override_settings(BILLING_GATE_TTL_S=60)
def test_the_mirror_is_rebuilt_from_the_database_when_missing(cast):
    from apps.billing import gate

    fill(cast.client_a, "chat_turns", cast.client_a.plan.chat_turns)
    gate.gate_clear(cast.client_a.pk)
    assert usage_allowed(client=cast.client_a, kind="chat_turn", refresh=False)  # an event loop: allowed
    assert not usage_allowed(client=cast.client_a, kind="chat_turn")  # rebuilt: refused


# --- the voice session (widget) -------------------------------------------------------------------------------


def _voice_refusal(cast):
    from asgiref.sync import async_to_sync

    from apps.widget.services import widget_origins_set
    from tests.agents.conftest import make_agent
    from tests.widget.test_voice import receive, socket

    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)

    async def scenario():
        comm = socket(cast.pk_a)
        connected, _ = await comm.connect()
        assert connected
        error = await receive(comm)
        closed = await receive(comm)
        return error, closed

    return async_to_sync(scenario)()


def test_a_voice_session_is_refused_when_the_minutes_are_used_up(cast):
    fill(cast.client_a, "voice_minutes", cast.client_a.plan.voice_minutes)
    error, closed = _voice_refusal(cast)
    assert error["type"] == "error" and error["code"] == "quota_exceeded"
    assert "voice minutes are used up" in error["message"] and closed == {"type": "closed", "code": 4429}


def test_a_voice_session_is_refused_politely_when_billing_is_suspended(cast):
    services.subscription_apply(client=cast.client_a, status="suspended", source="test")
    services.gate_rebuild_for(cast.client_a)
    error, closed = _voice_refusal(cast)
    assert error["code"] == "service_paused" and closed["code"] == 4403


def test_a_voice_session_records_its_minutes_once_in_the_ledger(cast):
    from asgiref.sync import async_to_sync

    from apps.widget.services import widget_origins_set
    from tests.agents.conftest import make_agent
    from tests.widget.test_voice import socket, started

    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)

    async def scenario():
        comm = socket(cast.pk_a)
        ready = await started(comm, language="en")
        await comm.disconnect()
        return ready

    ready = async_to_sync(scenario)()
    with tenant_context(cast.client_a):
        rows = list(UsageRecord.objects.filter(kind="voice_minute"))
    assert len(rows) == 1 and rows[0].quantity == 1 and rows[0].key.startswith(f"widget-voice:{ready['conversation']}:")
