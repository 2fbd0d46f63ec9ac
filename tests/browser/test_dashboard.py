"""The dashboard in a real browser: sign in, then the same page in fr (LTR), ar and ary (RTL)."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db]  # django_db: so the test database is set up


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/")


def choose_language(page, code: str) -> None:
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def sidebar_side(page) -> str:
    box = page.locator("nav.sidebar").bounding_box()
    return "left" if box["x"] < 100 else "right"


def test_it_renders_the_dashboard_left_to_right_and_right_to_left(page, live_server_url, session_cast):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "fr")
    assert page.get_attribute("html", "dir") == "ltr" and page.get_attribute("html", "lang") == "fr"
    assert sidebar_side(page) == "left"
    with translation.override("fr"):
        assert page.locator("h2#usage-title").inner_text() == translation.gettext("Usage and limits")
    page.screenshot(path=str(ARTIFACTS / "dashboard-fr.png"), full_page=True)

    for code in ("ar", "ary"):
        choose_language(page, code)
        assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == code
        assert sidebar_side(page) == "right"
        with translation.override(code):
            expected = translation.gettext("Usage and limits")
        assert page.locator("h2#usage-title").inner_text() == expected
        assert expected != "Usage and limits"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{code}.png"), full_page=True)

    page.goto(f"{base}/install/")  # still in Darija: the install page, with its voice and CSP lines
    assert page.get_attribute("html", "dir") == "rtl"
    with translation.override("ary"):
        assert translation.gettext("If your site sends a Content-Security-Policy, allow the widget with:") \
            in page.locator("#csp").inner_text()
    page.screenshot(path=str(ARTIFACTS / "install-ary.png"), full_page=True)


def test_it_shows_another_clients_host_as_not_found(page, live_server_url, session_cast):
    sign_in(page, f"http://alpha.{live_server_url}", "alice@a.test")
    response = page.goto(f"http://bravo.{live_server_url}/")
    # the session cookie is host-only: on B's host alice is anonymous and gets B's login page, never B's data
    assert response.status == 200 and "/accounts/login/" in page.url
    assert "Client BRAVO" not in page.locator("main").inner_text() or "login" in page.url


def test_it_lives_over_a_websocket(page, live_server_url, session_cast):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    page.wait_for_selector("html[data-live=on]", timeout=5000)  # live.js received its first snapshot
    result = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const ws = new WebSocket(`ws://${location.host}/ws/dashboard/live/`);
            ws.onmessage = (event) => { resolve(JSON.parse(event.data)); ws.close(); };
            ws.onclose = (event) => reject(new Error('closed ' + event.code));
            setTimeout(() => reject(new Error('timeout')), 5000);
        })"""
    )
    assert result["type"] == "snapshot" and result["client"] == "alpha"
    assert {q["quota"] for q in result["quotas"]} == {"monthly_conversations", "voice_minutes"}


def test_it_creates_an_agent_with_the_configurator_and_chats_with_it(page, live_server_url, session_cast):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "ar")
    page.goto(f"{base}/agents/new/")
    page.fill("input[name=name]", "عيادة الابتسامة")
    page.fill("textarea[name=description]", "عيادة طب الأسنان: تنظيف، تقويم، زراعة الأسنان")
    page.select_option("main select[name=language]", "ar")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    assert page.url.endswith("/agents/new/review/")
    page.screenshot(path=str(ARTIFACTS / "configurator-review-ar.png"), full_page=True)
    with page.expect_navigation():
        page.click("main form button.primary")
    assert "/agents/" in page.url and page.get_attribute("html", "dir") == "rtl"
    page.fill("#chat-input", "مرحبا")
    page.click("#chat-form button[type=submit]")
    page.wait_for_selector(".bubble.agent", timeout=10_000)
    assert "عيادة الابتسامة" in page.locator(".bubble.agent").first.inner_text()
    page.fill("#chat-input", "أريد حجز موعد يوم الثلاثاء")
    page.click("#chat-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('.bubble.agent').length >= 2", timeout=10_000)
    offer = page.locator(".bubble.agent").nth(1).inner_text()
    assert "الثلاثاء" in offer
    page.screenshot(path=str(ARTIFACTS / "agent-chat-ar.png"), full_page=True)


@pytest.fixture(scope="module")
def preview_agent(session_cast, django_db_blocker):
    """Committed (outside the test's transaction) for the live server; the module's cleanup removes it."""
    from tests.agents.conftest import make_agent

    with django_db_blocker.unblock():
        return make_agent(session_cast.client_a, name="Preview desk")


def test_it_does_not_take_the_live_preview_for_the_installed_widget(page, live_server_url, session_cast,
                                                                    preview_agent):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    with page.expect_response(lambda response: "/widget/v1/seen" in response.url, timeout=15_000) as seen:
        page.goto(f"{base}/install/")  # the preview iframe runs the real widget, which reports where it runs
    assert seen.value.status == 200
    page.reload()
    check = page.locator("#check").inner_text()
    assert "not seen yet" in check and "Seen on" not in check
