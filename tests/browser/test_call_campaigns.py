"""Calls in a real browser: a scheduled callback rings the open "Call your agent" page (answer: the agent says why
it calls), and a campaign of calls made from a CSV with bad lines — LTR on a desktop, RTL on a 390 px phone;
screenshots in tests/artifacts/calls/ (copied to the helper's shots folder when asked)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django_tenants.utils import tenant_context

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import choose_language, sign_in
from tests.telephony.conftest import phones  # noqa: F401  (the committed numbers, agents and plan)
from tests.telephony.test_simulator_page import _place_callback, _placed_clean

pytestmark = [pytest.mark.browser]  # not django_db: the numbers are committed for the live server
FOLDER = ARTIFACTS / "calls"


@pytest.mark.parametrize(("size", "language", "direction"), [((1280, 860), "fr", "ltr"), ((390, 844), "ar", "rtl")])
def test_a_scheduled_callback_rings_the_simulator_page_and_the_agent_says_why(  # noqa: PLR0913
        browser, live_server_url, phones, session_cast, django_db_blocker, size, language, direction):  # noqa: F811
    FOLDER.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    base = f"http://alpha.{live_server_url}"
    features = list(phones.client_a.plan.features)
    try:
        sign_in(page, base, "alice@a.test")
        choose_language(page, language)
        page.goto(f"{base}/calls/try/")
        assert page.get_attribute("html", "dir") == direction
        page.wait_for_selector("#phone-sim[data-listening='1']", timeout=15000)
        with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
            # Playwright's loop runs in this thread; the dial (a Celery worker's, in make run) runs in another.
            pool.submit(_place_callback, phones, session_cast, "+33612345678").result(timeout=60)
        page.wait_for_selector("#sim-incoming:not([hidden])", timeout=15000)
        assert "+15550100101" in page.locator("#sim-incoming").inner_text()
        page.screenshot(path=str(FOLDER / f"ringing-{direction}.png"), full_page=True)
        page.click("#sim-answer")
        page.wait_for_selector("#sim-log .bubble.agent", timeout=30000)
        assert "le devis de votre cuisine" in page.locator("#sim-log .bubble.agent").first.inner_text()
        page.screenshot(path=str(FOLDER / f"answered-{direction}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.click("#sim-hangup")
        page.wait_for_selector("#sim-dial:not([disabled])", timeout=15000)
    finally:
        context.close()
        with django_db_blocker.unblock():
            _placed_clean(phones, features)


@pytest.mark.parametrize(("size", "language", "direction"), [((1280, 860), "en", "ltr"), ((390, 844), "ar", "rtl")])
def test_an_owner_makes_a_campaign_of_calls_from_a_csv_with_bad_lines(  # noqa: PLR0913
        browser, live_server_url, phones, session_cast, django_db_blocker, tmp_path, size, language,  # noqa: F811
        direction):
    from apps.messaging.models import Campaign
    from apps.outbound.models import CallConsent
    from apps.schedule.models import DueWork

    FOLDER.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    base = f"http://alpha.{live_server_url}"
    csv = tmp_path / "calls.csv"
    csv.write_bytes("phone,name,language,consent\n+33611111111,Amina,fr,web form\nnope,Zed,fr,yes\n"
                    "+33622222222,Bo\x00b,en,yes\n+212600000001,يوسف,ary,\n".encode())
    try:
        sign_in(page, base, "alice@a.test")
        choose_language(page, language)
        page.goto(f"{base}/campaigns/")
        assert page.get_attribute("html", "dir") == direction
        page.fill("#c-name", "Browser calls")
        page.select_option("#c-channel", "call")
        page.fill("#c-body", "Your quote for new windows")
        page.set_input_files("#c-file", str(csv))
        page.fill("#c-concurrency", "3")
        page.screenshot(path=str(FOLDER / f"campaign-form-{direction}.png"), full_page=True)
        with page.expect_navigation():
            page.click("#new-campaign button[type=submit]")
        assert page.locator("#campaign-rejected li").count() == 2
        assert page.locator("tr.recipient-row").count() == 2
        page.click("form[action$='/start/'] button")
        page.wait_for_selector("form[action$='/pause/']")
        page.screenshot(path=str(FOLDER / f"campaign-{direction}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
        with django_db_blocker.unblock(), tenant_context(phones.client_a):
            Campaign.objects.filter(name__startswith="Browser").delete()
            CallConsent.objects.all().delete()
        with django_db_blocker.unblock():  # starting it noted the client due (public schema): committed, so undo it
            DueWork.objects.filter(client_id=phones.client_a.pk).delete()
