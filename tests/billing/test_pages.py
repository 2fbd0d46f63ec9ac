"""The client's Billing page and the agency's view across clients (with its CSV), their forms, bad input and
isolation."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.models import BillingAccount, Invoice
from apps.billing.usage import account_for, usage_record
from apps.usage.models import Wallet, WalletEntry
from tests.test_admin import staff_http

pytestmark = pytest.mark.django_db


def test_the_page_shows_plan_usage_wallet_and_invoices(cast, as_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.client_a):
        usage_record(kind="chat_turn", quantity=3, key="turn:page-1")
    services.invoice_issue(client=cast.client_a, key="inv-1", lines=[{"label": "Plan", "amount_cents": 9900}])
    page = as_user(cast.alice, cast.client_a).get("/billing/").content.decode()
    assert 'data-meter="chat_turns"' in page and '<span data-used>3</span>' in page
    assert "<svg class=\"chart\"" in page and 'data-invoice="ALPHA-' in page and "99.00 EUR" in page
    assert 'data-card="off"' in page and 'action="/billing/pack/"' in page


def test_a_member_sees_the_page_but_cannot_buy_or_change_the_plan(cast, as_user):
    http = as_user(cast.bob, cast.client_a)
    page = http.get("/billing/").content.decode()
    assert 'action="/billing/pack/"' not in page and 'action="/billing/plan/"' not in page
    http.post("/billing/plan/", {"plan": "starter"})
    cast.client_a.refresh_from_db()
    assert cast.client_a.plan.code == "pro"


def test_offline_the_owner_changes_plan_at_once_first_as_a_trial_then_with_an_invoice(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    assert http.post("/billing/plan/", {"plan": "expert"}).status_code == 302
    cast.client_a.refresh_from_db()
    assert cast.client_a.plan.code == "expert"
    assert BillingAccount.objects.get(client=cast.client_a).status == "trialing"
    with tenant_context(cast.client_a):
        assert WalletEntry.objects.get(kind="trial").minutes == 120  # the Expert plan's trial minutes
    services.invoice_issue(client=cast.client_a, key="earlier", lines=[{"label": "x", "amount_cents": 1}])
    http.post("/billing/plan/", {"plan": "pro"})
    cast.client_a.refresh_from_db()
    assert cast.client_a.plan.code == "pro" and BillingAccount.objects.get(client=cast.client_a).status == "active"
    assert Invoice.objects.filter(client=cast.client_a, total_cents=9900, status="paid").exists()


def test_offline_a_test_card_then_a_pack_fills_the_wallet(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    http.post("/billing/card/", {"on": "1"})
    http.post("/billing/pack/", {"minutes": "100", "key": "k1"})
    http.post("/billing/pack/", {"minutes": "100", "key": "k1"})  # the same form sent twice
    with tenant_context(cast.client_a):
        assert Wallet.objects.get(pk=1).balance_micros == 20_000_000
        assert WalletEntry.objects.filter(kind="pack").count() == 1
    http.post("/billing/wallet/", {"auto_recharge": "on", "threshold_minutes": "30", "pack_minutes": "500"})
    with tenant_context(cast.client_a):
        wallet = Wallet.objects.get(pk=1)
    assert (wallet.auto_recharge, wallet.threshold_minutes, wallet.pack_minutes) == (True, 30, 500)


@pytest.mark.parametrize("body", [
    "minutes=1%00", "minutes=%ED%A0%80", "minutes=" + "9" * 40, "minutes=-5", "minutes=abc", "minutes=1e999",
])
def test_the_forms_refuse_bad_input_with_a_message(cast, as_user, body):
    http = as_user(cast.alice, cast.client_a)
    http.post("/billing/card/", {"on": "1"})
    response = http.post("/billing/pack/", f"{body}&key=k2", content_type="application/x-www-form-urlencoded",
                         follow=True)
    assert response.status_code == 200 and b'class="error"' in response.content
    with tenant_context(cast.client_a):
        assert not WalletEntry.objects.exists()


@pytest.mark.parametrize("form", [{"threshold_minutes": "10" * 30, "pack_minutes": "100"},
                                  {"threshold_minutes": "5", "pack_minutes": "3"},
                                  {"threshold_minutes": "", "pack_minutes": ""}])
def test_the_wallet_form_refuses_absurd_numbers(cast, as_user, form):
    response = as_user(cast.alice, cast.client_a).post("/billing/wallet/", form, follow=True)
    assert response.status_code == 200 and b'class="error"' in response.content


def test_an_unknown_plan_is_refused(cast, as_user):
    response = as_user(cast.alice, cast.client_a).post("/billing/plan/", {"plan": "platinum"}, follow=True)
    assert b'class="error"' in response.content


def test_another_clients_owner_gets_a_404_and_nothing_changes(cast, as_user):
    http = as_user(cast.carol, cast.client_a)
    assert http.get("/billing/").status_code == 404
    assert http.post("/billing/plan/", {"plan": "expert"}).status_code == 404
    assert http.post("/billing/card/", {"on": "1"}).status_code == 404
    cast.client_a.refresh_from_db()
    assert cast.client_a.plan.code == "pro" and not BillingAccount.objects.filter(client=cast.client_a,
                                                                                  card_on_file=True).exists()


def test_a_banner_tells_of_a_failed_payment_then_a_suspension(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    services.subscription_apply(client=cast.client_a, status="past_due", source="test")
    assert 'data-billing-banner="past_due"' in http.get("/").content.decode()
    services.subscription_apply(client=cast.client_a, status="suspended", source="test")
    page = http.get("/billing/").content.decode()
    assert 'data-billing-banner="suspended"' in page and 'data-status="suspended"' in page


def test_the_agency_sees_each_clients_margin_and_exports_it(cast, django_capture_on_commit_callbacks):
    BillingAccount.objects.filter(client=cast.client_a).delete()
    services.account_for(cast.client_a)
    account_for(cast.client_a)
    BillingAccount.objects.filter(client=cast.client_a).update(card_on_file=True)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.client_a):
        usage_record(kind="call_minute", quantity=50, key="call:report-1")
    http = staff_http(cast.staff)
    page = http.get("/admin/billing/billingaccount/report/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-client="alpha"' in text and "<svg" in text
    response = http.get("/admin/billing/billingaccount/report.csv?months=2")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    alpha = [row for row in rows if row["slug"] == "alpha"]
    assert len(alpha) == 2 and alpha[-1]["voice_minutes"] == "50" and alpha[-1]["cost"] == "3.00"
    assert alpha[-1]["margin"] == str(cast.client_a.plan.monthly_price_eur - 3)


def test_the_agency_sets_prices_in_the_admin(cast):
    http = staff_http(cast.staff)
    account = services.account_for(cast.client_a)
    response = http.post(f"/admin/billing/billingaccount/{account.pk}/change/", {
        "price_voice_minutes": "0.35", "price_messages": "", "price_chat_turns": "", "price_llm_tokens": "",
        "markup_percent": "40", "spend_cap_eur": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.prices == {"voice_minutes": "0.35"} and str(account.markup_percent) == "40.00"
    with tenant_context(cast.client_a):
        from apps.audit.models import AuditEvent

        assert AuditEvent.objects.filter(action="billing.prices_changed").exists()


def test_the_report_is_for_staff_only(cast):
    assert staff_http(cast.alice).get("/admin/billing/billingaccount/report/").status_code == 302
    assert staff_http(cast.alice).get("/admin/billing/billingaccount/report.csv").status_code == 302


def test_offline_each_month_has_its_fee_invoice_and_last_months_usage_invoice(cast, django_capture_on_commit_callbacks):
    from datetime import date, datetime

    from django.utils import timezone

    BillingAccount.objects.filter(client=cast.client_a).delete()
    services.account_for(cast.client_a)
    account_for(cast.client_a)
    BillingAccount.objects.filter(client=cast.client_a).update(card_on_file=True)
    with tenant_context(cast.client_a):
        from apps.usage.services import usage_increment

        usage_increment(metric="voice_minutes", amount=cast.client_a.plan.voice_minutes, on=date(2026, 3, 5))
    occurred = timezone.make_aware(datetime(2026, 3, 20, 10, 0))
    with django_capture_on_commit_callbacks(execute=True), tenant_context(cast.client_a):
        usage_record(kind="call_minute", quantity=10, key="call:march", occurred=occurred)  # 10 × 0.20 € beyond
    assert services.invoices_offline_sweep(today=date(2026, 4, 2)) >= 2
    services.invoices_offline_sweep(today=date(2026, 4, 9))  # once a month, however often it runs
    invoices = Invoice.objects.filter(client=cast.client_a)
    assert invoices.filter(period=date(2026, 4, 1), total_cents=9900).count() == 1
    assert invoices.filter(period=date(2026, 3, 1), total_cents=200).count() == 1
