"""The Integrations page in a real browser, right to left: what serves each kind, and a test e-mail whose
status the page shows once the task has sent it."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import choose_language, sidebar_side, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_it_sends_a_test_email_from_the_integrations_page_in_darija(page, live_server_url, session_cast):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "ary")
    page.goto(f"{base}/integrations/")
    assert page.get_attribute("html", "dir") == "rtl" and sidebar_side(page) == "right"
    with translation.override("ary"):
        heading, sent = translation.gettext("Integrations"), translation.gettext("Sent")
        button = translation.gettext("Send a test e-mail")
    assert page.locator("h1").inner_text() == heading
    assert page.locator("nav.sidebar a[aria-current=page]").inner_text() == heading
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    assert page.locator("tr.test-delivery .badge").first.inner_text() == sent
    page.screenshot(path=str(ARTIFACTS / "integrations-ary.png"), full_page=True)
