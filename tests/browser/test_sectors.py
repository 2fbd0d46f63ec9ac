"""Changing the sector in a real Chromium: on the configurator's review step and on the agent page, left to right
(alice, English) and right to left (carol, Arabic), on a desktop and a phone; screenshots in
tests/artifacts/sectors/."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import sign_in

# No test transaction: the live server commits what the browser does, and the rows read or removed here are the
# committed ones (the module's cleanup removes the rest).
pytestmark = [pytest.mark.browser]

WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}
WHO = {"alice": ("alpha", "alice@a.test", "ltr", "Yasmine: a house with a restaurant and a terrace, "
                                                  "Tue-Sun 9am-11pm, closed Monday"),
       "carol": ("bravo", "carol@b.test", "rtl", "دار فيها مطعم وتراس، من الثلاثاء إلى الأحد من 9 إلى 23، "
                                                 "الاثنين مغلق")}


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_sector_is_changed_on_the_review_step_and_the_agent_page(browser, live_server_url, session_cast,
                                                                      django_db_blocker, who, device):
    slug, email, direction, description = WHO[who]
    client = {"alpha": session_cast.client_a, "bravo": session_cast.client_b}[slug]
    with django_db_blocker.unblock(), tenant_context(client):
        Agent.objects.all().delete()  # bravo's plan has room for one agent: start from none
    width, height = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    base = f"http://{slug}.{live_server_url}"
    folder = ARTIFACTS / "sectors"
    folder.mkdir(exist_ok=True)
    try:
        sign_in(page, base, email)
        response = page.goto(f"{base}/agents/new/")
        assert response.status == 200, page.inner_text("main")
        page.fill("input[name=name]", "Dar Yasmine")
        page.fill("textarea[name=description]", description)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        assert page.url.endswith("/agents/new/review/")
        assert page.get_attribute("html", "dir") == direction
        assert page.input_value("#sector-form select[name=sector]") == "restaurant"
        assert "23:00" in page.inner_text("main")  # the hours read from the description, shown
        page.select_option("#sector-form select[name=sector]", "hotel")
        with page.expect_navigation():
            page.click("#sector-form button[type=submit]")
        assert page.input_value("#sector-form select[name=sector]") == "hotel"
        page.screenshot(path=str(folder / f"{who}-{device}-review.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        with page.expect_navigation():
            page.click("main form:not(#sector-form) button.primary")
        assert "/agents/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
        with django_db_blocker.unblock(), tenant_context(client):
            agent = Agent.objects.get()
            assert agent.sector == "hotel" and agent.business_hours["mon"] == []
        page.select_option("#sector-form select[name=sector]", "car_repair")
        with page.expect_navigation():
            page.click("#sector-form button[type=submit]")
        assert page.locator(".messages .success").count() == 1
        page.screenshot(path=str(folder / f"{who}-{device}-agent.png"), full_page=False)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        with django_db_blocker.unblock(), tenant_context(client):
            agent.refresh_from_db()
            assert agent.sector == "car_repair" and agent.name == "Dar Yasmine"
            assert agent.business_hours["sun"] == [["09:00", "23:00"]]  # the hours stay
    finally:
        context.close()
        with django_db_blocker.unblock(), tenant_context(client):
            Agent.objects.all().delete()
