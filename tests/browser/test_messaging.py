"""The messaging pages in a real browser: an owner adds a WhatsApp template and creates, starts and pauses a
campaign from a CSV file, right to left in Arabic and on a phone; screenshots in tests/artifacts/."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from apps.messaging.models import Campaign, MessagingSettings, WhatsAppTemplate
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import choose_language, sidebar_side, sign_in

# Not in a test transaction: the live server commits what the browser does, and the cleanup must commit too.
pytestmark = [pytest.mark.browser]


@pytest.fixture
def cleanup(session_cast, django_db_blocker):
    def clean():
        with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
            Campaign.objects.filter(name__startswith="Browser").delete()
            WhatsAppTemplate.objects.filter(name="browser_rappel").delete()
            MessagingSettings.objects.all().delete()  # the Messaging page makes the row (committed by the server)

    clean()
    yield django_db_blocker
    clean()


def test_an_owner_manages_templates_and_a_campaign_in_arabic_on_a_phone(browser, live_server_url, session_cast,
                                                                       cleanup, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    base = f"http://alpha.{live_server_url}"
    try:
        sign_in(page, base, "alice@a.test")
        choose_language(page, "ar")
        page.goto(f"{base}/messaging/")
        assert page.get_attribute("html", "dir") == "rtl"
        with translation.override("ar"):
            heading, add = translation.gettext("Messaging"), translation.gettext("Add the template")
            start, pause = translation.gettext("Start"), translation.gettext("Pause")
            running = translation.gettext("Running")
        assert page.locator("h1").inner_text() == heading
        page.fill("#t-name", "browser_rappel")
        page.select_option("#t-purpose", "reminder_24h")
        page.select_option("#t-language", "ar")
        page.fill("#t-sid", "HX" + "ab" * 16)
        page.fill("#t-vars", "name, date, time")
        with page.expect_navigation():
            page.get_by_role("button", name=add).click()
        assert page.locator("tr.template-row").filter(has_text="browser_rappel").count() == 1
        page.screenshot(path=str(ARTIFACTS / "messaging-ar-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        csv = tmp_path / "contacts.csv"
        csv.write_text("phone,name,language\n+212600000001,يوسف,ary\n+212600000002,Amina,fr\n", encoding="utf-8")
        page.goto(f"{base}/campaigns/")
        page.fill("#c-name", "Browser campaign")
        page.fill("#c-body", "مرحبا {name}")
        page.set_input_files("#c-file", str(csv))
        with page.expect_navigation():
            page.locator("#new-campaign button[type=submit]").click()
        assert page.locator("tr.recipient-row").count() == 2
        with page.expect_navigation():
            page.get_by_role("button", name=start).click()
        assert page.locator("#campaign-progress .badge").first.inner_text() == running
        page.screenshot(path=str(ARTIFACTS / "campaign-ar-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        with page.expect_navigation():
            page.get_by_role("button", name=pause).click()
        with cleanup.unblock(), tenant_context(session_cast.client_a):
            assert Campaign.objects.get(name="Browser campaign").status == "paused"
    finally:
        context.close()


def test_the_people_page_in_french_on_a_desktop(page, live_server_url, session_cast):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "bob@a.test")
    choose_language(page, "fr")
    page.goto(f"{base}/messaging/contacts/")
    assert page.get_attribute("html", "dir") == "ltr" and sidebar_side(page) == "left"
    assert page.locator("h1").inner_text() == "Les personnes et leurs canaux"
    page.screenshot(path=str(ARTIFACTS / "messaging-contacts-fr.png"), full_page=True)
