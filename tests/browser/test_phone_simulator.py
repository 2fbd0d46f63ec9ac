"""'Call your agent' in a real browser: dial, type a sentence, read the agent's reply (LTR desktop, RTL phone)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import sign_in
from tests.telephony.conftest import phones  # noqa: F401  (the committed numbers, agents and plan)

pytestmark = [pytest.mark.browser]  # not django_db: the numbers are committed for the live server


@pytest.mark.parametrize(("slug", "email", "size", "direction"), [
    ("alpha", "alice@a.test", (1280, 860), "ltr"), ("bravo", "carol@b.test", (390, 844), "rtl")])
def test_it_calls_the_agent_from_the_simulator_page(browser, live_server_url, phones, slug, email, size,  # noqa: F811
                                                    direction):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    base = f"http://{slug}.{live_server_url}"
    try:
        sign_in(page, base, email)
        page.goto(f"{base}/calls/try/")
        assert page.get_attribute("html", "dir") == direction
        page.click("#sim-dial")
        page.wait_for_selector("#sim-log .bubble.agent", timeout=30000)
        page.fill("#sim-text", "Hello, what are your opening hours?")
        page.select_option("#sim-lang", "en")
        page.click("#sim-send")
        page.wait_for_function("document.querySelectorAll('#sim-log .bubble.agent').length >= 2", timeout=30000)
        assert page.locator("#sim-log .bubble.user").inner_text() == "Hello, what are your opening hours?"
        folder = ARTIFACTS / "phone"
        folder.mkdir(exist_ok=True)
        page.screenshot(path=str(folder / f"simulator-{slug}-{direction}.png"), full_page=True)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner
        page.click("#sim-hangup")
    finally:
        context.close()
