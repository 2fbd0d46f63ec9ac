"""Every dashboard page on a desktop (1280 px) and a phone (390 px), left to right (alice, en) and right to left
(carol, ar): nothing overflows sideways, and each page is kept as a screenshot in tests/artifacts/responsive/."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.calls.models import Call
from apps.conversations.models import Message
from apps.conversations.services import conversation_start, message_add
from apps.crm.models import Lead, Ticket
from apps.messaging.models import Campaign, CampaignRecipient, Contact
from tests.agents.conftest import make_agent
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PAGES = ["/", "/agents/", "/agents/new/", "/agents/{agent}/", "/knowledge/", "/conversations/",
         "/conversations/{conversation}/", "/calls/", "/calls/{call}/", "/calls/numbers/",
         "/calls/agents/{agent}/phone/", "/leads/", "/tickets/", "/outbound/", "/appointments/", "/outbox/",
         "/install/", "/team/", "/developers/", "/settings/", "/billing/", "/messaging/", "/messaging/contacts/",
         "/campaigns/", "/campaigns/{campaign}/", "/no-such-page/"]
WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}
# Pages that answer with the product's error page: bravo's Starter plan has room for one agent only.
STATUS = {("alpha", "/no-such-page/"): 404, ("bravo", "/no-such-page/"): 404, ("bravo", "/agents/new/"): 403}


@pytest.fixture(scope="module")
def rows(session_cast, django_db_blocker):
    """Committed rows, so the live server's tables are not empty (the module's cleanup removes them)."""
    made = {}
    with django_db_blocker.unblock():
        for client in (session_cast.client_a, session_cast.client_b):
            agent = make_agent(client, name="Reception desk with a rather long name")
            with tenant_context(client):
                conversation = conversation_start(agent=agent, channel="widget_text", language="en",
                                                  visitor_id="visitor-with-a-long-identifier-0123456789")
                message_add(conversation=conversation, role=Message.Role.USER,
                            text="Hello, I would like an appointment next Tuesday morning please.")
                message_add(conversation=conversation, role=Message.Role.ASSISTANT,
                            text="Of course: Tuesday at 9:00 or at 10:30?")
                Lead.objects.create(conversation=conversation, name="Leila Benali-Fontaine",
                                    email="leila.benali-fontaine@example.com", phone="+33612345678",
                                    need="A quote for a complete kitchen renovation", score=70)
                Ticket.objects.create(conversation=conversation, subject="Invoice 2026-118 was charged twice",
                                      description="Please refund the second charge.",
                                      contact="leila.benali-fontaine@example.com")
                call = Call.objects.create(
                    call_sid=f"CA{client.pk:032d}", conversation=conversation, agent=agent, from_number="+33612345678",
                    to_number="+15550100001", status="completed", duration_s=95, languages=["fr", "ary"],
                    recording_sid="RE" + "1" * 32, recording_duration_s=90,
                    timeline=[{"event": "answered", "at": "2026-12-01T18:00:00+00:00", "detail": "relay"},
                              {"event": "language", "at": "2026-12-01T18:00:20+00:00", "detail": "ary"}],
                    turns=[{"recognition_ms": None, "engine_ms": 14, "speech_ms": None}],
                    summary="Appointment booked. The caller said first: “Hello, I would like an appointment”")
                contact = Contact.objects.create(channel="whatsapp", address="+212600000001",
                                                 name="Youssef El Amrani-Benjelloun", language="ary")
                campaign = Campaign.objects.create(name="Soldes d'hiver — tout le magasin à moins vingt pour cent",
                                                   channel="sms", body="Bonjour {name}, -20% cette semaine !")
                CampaignRecipient.objects.create(campaign=campaign, address=contact.address, name=contact.name,
                                                 status="failed", last_error="Twilio 400 (error 21610): "
                                                 "Attempt to send to unsubscribed recipient")
            made[client.slug] = {"agent": agent.pk, "conversation": conversation.pk, "campaign": campaign.pk,
                                 "call": call.pk}
    yield made
    with django_db_blocker.unblock():  # the messaging rows: later tests count campaigns and contacts
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                Campaign.objects.filter(pk=made[client.slug]["campaign"]).delete()
                Contact.objects.filter(address="+212600000001").delete()


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("who", ["alice", "carol"])
@pytest.mark.parametrize("device", list(WIDTHS))
def test_it_fits_every_dashboard_page_on_the_screen(browser, live_server_url, session_cast, rows, who, device):
    slug, email, direction = {"alice": ("alpha", "alice@a.test", "ltr"),
                              "carol": ("bravo", "carol@b.test", "rtl")}[who]
    width, height = WIDTHS[device]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    base = f"http://{slug}.{live_server_url}"
    try:
        folder = ARTIFACTS / "responsive"
        folder.mkdir(exist_ok=True)
        too_wide = {}
        page.goto(f"{base}/accounts/login/")  # the sign-in page, in the client's language
        page.screenshot(path=str(folder / f"{who}-{device}-login.png"), full_page=True)
        scroll, inner = _overflow(page)
        if scroll > inner:
            too_wide["/accounts/login/"] = scroll
        sign_in(page, base, email)
        for path in PAGES:
            url = base + path.format(**rows[slug])
            response = page.goto(url)
            assert response.status == STATUS.get((slug, path), 200), url
            assert page.get_attribute("html", "dir") == direction, url
            assert "Using the URLconf" not in page.content()  # the server runs with DEBUG on, like `make run`
            name = path.strip("/").replace("/", "-").replace("{", "").replace("}", "") or "home"
            page.screenshot(path=str(folder / f"{who}-{device}-{name}.png"), full_page=True)
            scroll, inner = _overflow(page)
            if scroll > inner:
                too_wide[path] = scroll
        assert too_wide == {}, f"wider than the {width} px screen: {too_wide}"
    finally:
        context.close()
