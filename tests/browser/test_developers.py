"""The Developers page in a real browser: a client's developer adds an endpoint, sends a test, sees a booking
delivered and signed, sees a failed delivery in the log and replays it — left to right on a desktop, right
to left (Darija) on a phone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django_tenants.utils import tenant_context
from standardwebhooks.webhooks import Webhook

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import choose_language, sidebar_side, sign_in

pytestmark = [pytest.mark.browser]


def book_in_process(client, django_db_blocker):
    """A booking made by the agent (committed: the live server and the log see it)."""
    from apps.agents.models import Agent
    from apps.bookings.services import appointment_book
    from tests.agents.conftest import ALL_TOOLS

    zone = ZoneInfo(client.timezone)
    today = timezone.now().astimezone(zone).date()
    monday = today + timedelta(days=(0 - today.weekday()) % 7 or 7)
    with django_db_blocker.unblock(), tenant_context(client):
        agent = Agent.objects.create(name="Reception", languages=["en"], default_language="en", tools=ALL_TOOLS)
        return appointment_book(agent=agent, start=datetime.combine(monday, datetime.min.time(), zone)
                                .replace(hour=9), customer_name="Nadia")


def test_a_developer_adds_an_endpoint_gets_a_signed_booking_and_replays_a_failure(
        page, live_server_url, session_cast, receiver, django_db_blocker):
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "en")
    page.click("nav.sidebar >> text=Developers")
    assert page.locator("h1").inner_text() == "Developers"
    page.fill("#new-url", receiver.url)
    page.fill("#new-description", "Our CRM")
    with page.expect_navigation():
        page.get_by_role("button", name="Add endpoint").click()
    secret = page.locator("#revealed-secret").inner_text()
    assert secret.startswith("whsec_")
    with page.expect_navigation():
        page.click("#send-test")
    assert page.locator("tr.delivery-row[data-status=succeeded]").count() == 1
    page.screenshot(path=str(ARTIFACTS / "developers-endpoint-en.png"), full_page=True)

    appointment = book_in_process(session_cast.client_a, django_db_blocker)
    booked = [r for r in receiver.requests if r.json["type"] == "appointment.booked"]
    assert len(booked) == 1
    assert Webhook(secret).verify(booked[0].body, booked[0].headers)["data"]["reference"] == appointment.reference

    receiver.answers = [(503, {}, b"maintenance")]
    with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
        from apps.crm.services import ticket_create
        from apps.events.models import WebhookDelivery

        ticket_create(subject="Heater broken")
        WebhookDelivery.objects.filter(status="pending").update(status="failed")  # the schedule, spent
    page.reload()
    failed = page.locator("tr.delivery-row[data-status=failed] a").first
    with page.expect_navigation():
        failed.click()
    assert page.locator("#delivery-status").inner_text() == "Failed"
    assert "maintenance" in page.locator("section.attempt").first.inner_text()
    with page.expect_navigation():
        page.click("#replay")
    assert page.locator("#delivery-status").inner_text() == "Succeeded"
    assert re.search(r"Attempt 2", page.content())
    ids = {r.headers["webhook-id"] for r in receiver.requests if r.json["type"] == "ticket.created"}
    assert len(ids) == 1 and len([r for r in receiver.requests if r.json["type"] == "ticket.created"]) == 2
    page.goto(f"{base}/developers/")
    page.screenshot(path=str(ARTIFACTS / "developers-en.png"), full_page=True)


def test_the_developers_pages_read_right_to_left_on_a_phone(browser, live_server_url, session_cast, receiver,
                                                            django_db_blocker):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    base = f"http://alpha.{live_server_url}"
    sign_in(page, base, "alice@a.test")
    choose_language(page, "ary")
    page.goto(f"{base}/developers/")
    assert page.get_attribute("html", "dir") == "rtl"
    with translation.override("ary"):
        assert page.locator("h1").inner_text() == translation.gettext("Developers")
        add = translation.gettext("Add endpoint")
    assert sidebar_side(page) in ("left", "right")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    page.screenshot(path=str(ARTIFACTS / "developers-ary-phone.png"), full_page=True)
    page.fill("#new-url", receiver.url)
    with page.expect_navigation():
        page.get_by_role("button", name=add).click()
    with page.expect_navigation():
        page.click("#send-test")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "developers-endpoint-ary-phone.png"), full_page=True)
    with page.expect_navigation():
        page.locator("tr.delivery-row a").first.click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "developers-delivery-ary-phone.png"), full_page=True)
    context.close()
