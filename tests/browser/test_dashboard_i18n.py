"""The pages of issue 8 part 2 in a real Chromium, as alice (alpha, en) and carol (bravo, ar, RTL), on a desktop
and a 390 px phone: names instead of codes, tool calls as cards, dates the language's way, a confirmation before
deleting a document. Screenshots in tests/artifacts/ (i18n-*.png)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tests.agents.conftest import make_agent
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
STARTED = datetime(2026, 12, 4, 19, 0, tzinfo=ZoneInfo("UTC"))  # 20:00 in both clients' zone (Europe/Paris)
SIZES = {"desktop": {"width": 1280, "height": 860}, "390": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def seeded(session_cast, django_db_blocker):
    """One agent, one conversation with two tool calls and one document per client, committed for the server."""
    from apps.conversations.models import Conversation, Message
    from apps.conversations.services import conversation_start, message_add
    from apps.knowledge.models import Document

    made = {}
    with django_db_blocker.unblock():
        for key, client, language in (("alpha", session_cast.client_a, "en"), ("bravo", session_cast.client_b, "ar")):
            agent = make_agent(client, sector="dental", languages=["fr", "en", "ar", "ary"])
            with tenant_context(client):
                conversation = conversation_start(agent=agent, channel=Conversation.Channel.WIDGET_TEXT,
                                                  language=language)
                Conversation.objects.filter(pk=conversation.pk).update(started=STARTED)
                message_add(conversation=conversation, role=Message.Role.USER, text="مرحبا، أريد حجز موعد")
                message_add(conversation=conversation, role=Message.Role.TOOL, tool_name="check_availability",
                            tool_call_id="c1", tool_args={"date": "2026-12-08"},
                            tool_result={"slots": ["2026-12-08T09:00+01:00", "2026-12-08T09:40+01:00"],
                                         "timezone": "Europe/Paris", "duration_minutes": 30})
                message_add(conversation=conversation, role=Message.Role.TOOL, tool_name="book_appointment",
                            tool_call_id="c2", tool_args={"start": "2026-12-08T09:00+01:00", "name": "أحمد علي",
                                                          "phone": "+212612345678"},
                            tool_result={"reference": "RDV-ABC123", "start": "2026-12-08T09:00+01:00",
                                         "end": "2026-12-08T09:30+01:00", "name": "أحمد علي",
                                         "timezone": "Europe/Paris"})
                document = Document.objects.create(title="Tarifs 2026", kind=Document.Kind.TEXT, language="fr",
                                                   raw_text="x", status=Document.Status.READY, chunk_count=3)
            made[key] = {"conversation": conversation.pk, "document": document.pk}
    return made


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("who, host, email, expect", [
    ("alice", "alpha", "alice@a.test", {"sector": "Dental & Medical Practice", "tool": "Book an appointment",
                                        "when": "08/12/2026 09:00", "week": "Week of 30 November 2026",
                                        "dir": "ltr", "confirm": "Yes, delete it", "language": "English"}),
    ("carol", "bravo", "carol@b.test", {"sector": "عيادة أسنان وعيادة طبية", "tool": "حجز موعد",
                                        "when": "08/12/2026 09:00", "week": "30 نوفمبر 2026", "dir": "rtl",
                                        "confirm": "نعم، احذفه", "language": "العربية"}),
])
def test_it_shows_names_cards_and_dates_the_readers_way(browser, live_server_url, seeded, size, who, host, email,
                                                         expect):
    context = browser.new_context(viewport=SIZES[size], timezone_id="America/New_York")
    page = context.new_page()
    base = f"http://{host}.{live_server_url}"
    ids = seeded[host]
    try:
        sign_in(page, base, email)
        assert page.get_attribute("html", "dir") == expect["dir"]

        page.goto(f"{base}/agents/")
        row = page.locator("table tbody tr").first.inner_text()
        assert expect["sector"] in row and "dental" not in row and "fr, en" not in row
        page.screenshot(path=str(ARTIFACTS / f"i18n-agents-{who}-{size}.png"), full_page=True)

        page.goto(f"{base}/conversations/{ids['conversation']}/")
        cards = page.locator(".tool-card")
        assert cards.count() == 2
        booked = cards.nth(1).inner_text()
        assert expect["tool"] in booked and "RDV-ABC123" in booked and expect["when"] in booked
        assert "book_appointment" not in page.content() and "{'" not in booked
        assert expect["language"] in page.locator("p.lead").inner_text()
        page.screenshot(path=str(ARTIFACTS / f"i18n-conversation-{who}-{size}.png"), full_page=True)
        box, log = cards.nth(1).bounding_box(), page.locator(".chat-log").bounding_box()
        assert log["x"] <= box["x"] and box["x"] + box["width"] <= log["x"] + log["width"] + 1  # no overflow
        assert page.evaluate("document.querySelector('.tool-card dl').scrollWidth "
                             "<= document.querySelector('.tool-card dl').clientWidth")

        page.goto(f"{base}/conversations/?from=04/12/2026&to=04/12/2026")
        assert page.locator("#f-from").input_value() == "04/12/2026"
        assert page.locator("#f-from").get_attribute("type") == "text"
        assert page.locator(f'a[href="/conversations/{ids["conversation"]}/"]').count() == 1
        assert "04/12/2026 20:00" in page.locator("table").inner_text()  # the client's zone, not the browser's
        page.screenshot(path=str(ARTIFACTS / f"i18n-conversations-{who}-{size}.png"), full_page=True)

        page.goto(f"{base}/appointments/")
        page.fill("#week-date", "04/12/2026")
        with page.expect_navigation():
            page.click("#week-jump button[type=submit]")
        assert expect["week"] in page.locator("p.lead").inner_text()
        assert page.locator("#week-date").input_value() == "30/11/2026"
        page.screenshot(path=str(ARTIFACTS / f"i18n-appointments-{who}-{size}.png"), full_page=True)

        page.goto(f"{base}/knowledge/")
        with page.expect_navigation():
            page.click(f'a[href="/knowledge/{ids["document"]}/delete/"]')
        assert page.locator("button[name=confirm]").inner_text() == expect["confirm"]
        page.screenshot(path=str(ARTIFACTS / f"i18n-delete-{who}-{size}.png"), full_page=True)
    finally:
        context.close()
