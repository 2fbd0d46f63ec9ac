"""The admin's number screens in a real browser, offline (the twin hands out test numbers): search, buy for a client
and one of its agents, assign, import; in English and Arabic (RTL), on a desktop and a 390 px screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_admin import choose_language, staff_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def desk(session_cast: object, django_db_blocker: object) -> Iterator[object]:
    """A committed agent in client A (the server sees only committed rows); the numbers bought are removed."""
    from apps.agents.models import Agent
    from apps.telephony.models import PhoneNumber, TwilioSubaccount

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        with tenant_context(session_cast.client_a):  # type: ignore[attr-defined]
            agent = Agent.objects.create(name="Front desk", languages=["fr"], default_language="fr")
        before = set(PhoneNumber.objects.values_list("pk", flat=True))
        yield agent
        PhoneNumber.objects.exclude(pk__in=before).delete()
        TwilioSubaccount.objects.filter(client=session_cast.client_a).delete()  # type: ignore[attr-defined]


def test_staff_search_buy_and_assign_a_number_in_the_admin(page, live_server_url, session_cast, desk):
    from apps.telephony.models import PhoneNumber

    base = f"http://{live_server_url}"
    staff_sign_in(page, base)
    page.goto(f"{base}/admin/telephony/phonenumber/")
    page.click("text=Search and buy numbers")
    page.select_option("#id_client", str(session_cast.client_a.pk))
    page.fill("#id_country", "FR")
    page.fill("#id_contains", "12")
    page.click("#number-search input[type=submit]")
    page.wait_for_selector("#search-results")
    rows = page.locator("#search-results tbody tr")
    assert rows.count() > 0
    first = rows.first.locator("td").first.inner_text().strip()
    assert first.startswith("+1555010")
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-search-en.png"), full_page=True)
    rows.first.locator("select[name=agent]").select_option(str(desk.pk))
    rows.first.locator("input[type=submit]").click()
    page.wait_for_url(f"{base}/admin/telephony/phonenumber/")
    assert "bought and pointed at this platform" in page.locator(".messagelist").inner_text()
    number = PhoneNumber.objects.get(e164=first)
    assert (number.client_id, number.agent_id, number.status) == (session_cast.client_a.pk, desk.pk, "active")
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-list-en.png"), full_page=True)

    page.goto(f"{base}/admin/telephony/phonenumber/{number.pk}/assign/")
    assert "Front desk" in page.locator("#id_agent").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-assign-en.png"), full_page=True)

    page.goto(f"{base}/admin/telephony/phonenumber/search/?account=agency&country=ZZZ")
    assert page.locator("#search-error").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-error-en.png"), full_page=True)

    choose_language(page, base, "ar")
    page.goto(f"{base}/admin/telephony/phonenumber/search/?account=agency&country=MA"
              f"&client={session_cast.client_a.pk}")
    assert page.get_attribute("html", "dir") == "rtl"
    with translation.override("ar"):
        assert translation.gettext("Search and buy numbers") in page.locator("#content").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-search-ar.png"))
    page.goto(f"{base}/admin/telephony/phonenumber/import/")
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-import-ar.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/admin/telephony/phonenumber/search/?account=agency&country=US"
              f"&client={session_cast.client_a.pk}")
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-search-ar-390.png"))
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    choose_language(page, base, "en")
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-search-en-390.png"))
    page.locator("#search-results").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "admin-numbers-results-en-390.png"))
    assert overflow <= 1, overflow  # the results table scrolls inside its box, the page does not
