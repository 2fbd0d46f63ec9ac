"""The Billing page and the agency's margin report in a real browser: the owner adds a (test) card, buys a minute
pack and watches the wallet; French (LTR) and Arabic / Darija (RTL), desktop and phone; the agency's report in
English and Arabic. Screenshots in tests/artifacts/billing-*.png."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from apps.billing.usage import usage_record
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin import choose_language as choose_admin_language
from tests.browser.test_admin import staff_sign_in
from tests.browser.test_dashboard import choose_language, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def usage(session_cast, django_db_blocker):
    """Committed usage (the module's cleanup removes it), so the meters and charts have something to show."""
    with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
        for n, quantity in enumerate([12, 30, 7, 18]):
            usage_record(kind="chat_turn", quantity=quantity, key=f"browser:turn:{n}")
            usage_record(kind="voice_minute", quantity=quantity // 3 + 1, key=f"browser:voice:{n}")


def test_the_owner_buys_minutes_and_sees_the_wallet_in_ltr_and_rtl(page, live_server_url, session_cast, usage):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "fr")
    page.goto(f"{base}/billing/")
    assert page.locator('[data-meter="chat_turns"] [data-used]').inner_text() == "67"
    assert page.locator("svg.chart").count() >= 2
    page.click("#payment form[action='/billing/card/'] button")
    assert page.locator('[data-card="on"]').count() == 1
    page.select_option("select[name=minutes]", "100")
    page.click("form[action='/billing/pack/'] button[type=submit]")
    with translation.override("fr"):
        assert page.locator(".messages li.success").inner_text() == translation.gettext(
            "%(n)d minutes added to your wallet.") % {"n": 100}
    assert page.locator("[data-wallet]").inner_text() == "20,00 EUR"  # 100 minutes at 0.20 €, French numbers
    page.locator("#usage-title ~ .grid details.charts").first.evaluate("el => el.open = true")
    page.screenshot(path=str(ARTIFACTS / "billing-fr.png"), full_page=True)
    for code in ("ar", "ary"):
        choose_language(page, code)
        assert page.get_attribute("html", "dir") == "rtl"
        with translation.override(code):
            assert page.locator("h1").inner_text() == translation.gettext("Billing") != "Billing"
        page.locator("details.charts").first.evaluate("el => el.open = true")
        page.screenshot(path=str(ARTIFACTS / f"billing-{code}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the Billing page is {width}px wide on a phone"
    page.screenshot(path=str(ARTIFACTS / "billing-ary-phone.png"), full_page=True)


def test_the_agency_sees_each_clients_margin(page, live_server_url, session_cast, usage):
    base = f"http://{live_server_url}"
    staff_sign_in(page, base)
    page.goto(f"{base}/admin/billing/billingaccount/report/")
    for language in ("en", "ar"):
        choose_admin_language(page, base, language)
        assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator('#billing-current tr[data-client="alpha"]').count() == 1
        assert page.locator(".billing-charts svg").count() == 3
        page.screenshot(path=str(ARTIFACTS / f"billing-admin-{language}.png"), full_page=True)
