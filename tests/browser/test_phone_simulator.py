""""Call your agent" in a real browser: an agent in Media Streams mode, the typed text spoken through the real
consumer, the agent's μ-law audio decoded and scheduled with Web Audio; English and Arabic (RTL), desktop and a
390 px phone screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD
from tests.telephony.conftest import phones  # noqa: F401  (the fixture)
from tests.telephony.test_media import _media_mode

pytestmark = [pytest.mark.browser]  # no django_db: the phones fixture commits, so the server sees the number


def _sign_in(page, base: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.goto(f"{base}/calls/try/")
    if "/accounts/login/" in page.url:
        page.fill("input[name=login]", "alice@a.test")
        page.fill("input[name=password]", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/calls/try/**")


@pytest.mark.parametrize(("language", "width"), [("en", 1280), ("ar", 390)])
def test_a_member_calls_a_media_streams_agent_and_hears_it(page, live_server_url, phones,  # noqa: F811
                                                           django_db_blocker, language, width):
    with django_db_blocker.unblock():
        _media_mode(phones.client_a, phones.agent_a.pk, language="en")
    page.set_viewport_size({"width": width, "height": 860})
    base = f"http://alpha.{live_server_url}"
    _sign_in(page, base, language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    page.click("#sim-dial")
    expect(page.locator("#phone-sim")).to_have_attribute("data-mode", "media", timeout=30_000)
    page.wait_for_function("Number(document.getElementById('phone-sim').dataset.frames || 0) > 20", timeout=30_000)
    greeting = int(page.locator("#phone-sim").get_attribute("data-frames"))
    page.select_option("#sim-lang", "en")
    page.fill("#sim-text", "where are you located")
    page.click("#sim-send")
    page.wait_for_function(f"Number(document.getElementById('phone-sim').dataset.frames) > {greeting + 40}",
                           timeout=60_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    page.screenshot(path=str(ARTIFACTS / f"phone-simulator-media-{language}-{width}.png"), full_page=True)
    page.click("#sim-hangup")
    expect(page.locator("#sim-dial")).to_be_enabled(timeout=30_000)
