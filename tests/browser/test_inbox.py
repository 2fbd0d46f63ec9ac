"""The inbox in a real Chromium, with two members and a visitor: alice (desktop, English) and bob (a 390 px phone,
Arabic, right to left) watch the list fill live; alice takes over and replies; bob sees it live; the visitor's
widget, on the client's own website, shows the person's reply while the agent stays silent; alice hands back."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_dashboard import choose_language, sign_in
from tests.browser.test_widget import PAGE, open_widget, say, serve

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def shop(tmp_path_factory, live_server_url, session_cast, django_db_blocker):
    folder = tmp_path_factory.mktemp("shop")
    (folder / "index.html").write_text(PAGE.format(lang="fr", csp="", stub="", api=f"http://{live_server_url}",
                                                   key=session_cast.pk_a, attrs=""))
    server, url = serve(folder)
    with django_db_blocker.unblock():
        widget_origins_set(client=session_cast.client_a, origins=[url])
        make_agent(session_cast.client_a)
    yield url
    server.shutdown()


def member(browser, base, email, *, phone=False, language=""):
    context = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 860},
                                  is_mobile=phone, has_touch=phone)
    page = context.new_page()
    sign_in(page, base, email)
    if language:
        choose_language(page, language)
    return context, page


def live(page):
    page.wait_for_function("document.documentElement.getAttribute('data-live') === 'on'", timeout=10_000)


def test_two_members_and_a_visitor(browser, live_server_url, shop, session_cast, django_db_blocker):
    base = f"http://alpha.{live_server_url}"
    alice_context, alice = member(browser, base, "alice@a.test")
    bob_context, bob = member(browser, base, "bob@a.test", phone=True, language="ar")
    visitor_context = browser.new_context(viewport={"width": 1000, "height": 800})
    visitor = visitor_context.new_page()
    try:
        for page in (alice, bob):
            page.goto(f"{base}/inbox/")
            live(page)
        assert bob.locator("html").get_attribute("dir") == "rtl"

        # a visitor writes on the client's website: the conversation appears in both inboxes without a reload
        visitor.goto(f"{shop}/index.html")
        open_widget(visitor)
        first = say(visitor, "Bonjour, quels sont vos horaires ?")
        assert first
        for page in (alice, bob):
            page.wait_for_selector("[data-inbox-list] [data-row]", timeout=10_000)
        with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
            conversation = Conversation.objects.order_by("-id").first()
        row = f"[data-row='{conversation.pk}']"
        alice.wait_for_selector(f"{row} .unread-count")  # the preview is the latest message: the agent's answer
        bob.screenshot(path=str(ARTIFACTS / "inbox-phone-ar-list.png"), full_page=True)

        # bob, on his phone, opens it: list → conversation (the list hides), with a way back
        bob.click(f"{row} a")
        bob.wait_for_url(re.compile(rf"/inbox/{conversation.pk}/"))
        assert bob.locator(".inbox-list").is_hidden() and bob.locator(".inbox-back").is_visible()
        assert bob.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        live(bob)

        # alice takes over
        alice.click(f"{row} a")
        alice.wait_for_url(re.compile(rf"/inbox/{conversation.pk}/"))
        live(alice)
        alice.click("form[action$='/takeover/'] button")
        alice.wait_for_selector("form[action$='/handback/']")
        bob.wait_for_function("document.querySelector('[data-answering] .human') !== null", timeout=10_000)
        # the visitor is told, and the agent is silent from now on
        agent_bubbles = visitor.locator(".m.a").count()
        visitor.fill("textarea", "Je voudrais parler à quelqu'un")
        visitor.press("textarea", "Enter")
        visitor.wait_for_function("""() => document.querySelector('#vocalia-widget').shadowRoot
            .querySelector('.m.s') !== null""", timeout=10_000)
        assert "rejoint la conversation" in visitor.locator(".m.s").last.inner_text()

        alice.wait_for_function("document.querySelector('[data-inbox-log]').innerText.includes('parler à quelqu')",
                                timeout=10_000)
        alice.fill("#reply-text", "Bonjour, ici Alice : nous sommes ouverts de 9 h à 18 h.")
        alice.click(".inbox-reply button[type=submit]")
        alice.wait_for_selector(".bubble.member", timeout=10_000)

        # bob sees alice's reply live, without a reload
        bob.wait_for_selector(".bubble.member", timeout=10_000)
        assert "ouverts de 9 h" in bob.locator(".bubble.member").inner_text()
        # and the visitor reads it in the widget (polled while a person answers)
        visitor.wait_for_function("""() => { const r = document.querySelector('#vocalia-widget').shadowRoot;
            return [...r.querySelectorAll('.m.h')].some(n => n.textContent.includes('ouverts de 9 h')); }""",
                                  timeout=15_000)
        assert visitor.locator(".m.a").count() == agent_bubbles  # the agent said nothing
        with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
            roles = list(Message.objects.filter(conversation=conversation).order_by("id")
                         .values_list("role", flat=True))
        assert roles[-3:] == ["notice", "user", "member"]  # joined, the visitor's message (no answer), the reply

        alice.fill("#note-text", "Rappeler demain matin")
        alice.click(".inbox-note button[type=submit]")
        alice.wait_for_selector(".bubble.note")
        bob.wait_for_selector(".bubble.note", timeout=10_000)
        alice.screenshot(path=str(ARTIFACTS / "inbox-desktop-en.png"), full_page=True)
        bob.screenshot(path=str(ARTIFACTS / "inbox-phone-ar-conversation.png"), full_page=True)
        visitor.screenshot(path=str(ARTIFACTS / "inbox-visitor-widget.png"))
        assert "Rappeler demain" not in visitor.locator("#vocalia-widget").inner_text()

        # hand back: the visitor is told, and the agent answers again
        alice.click("form[action$='/handback/'] button")
        alice.wait_for_selector("form[action$='/takeover/']")
        visitor.wait_for_function("""() => [...document.querySelector('#vocalia-widget').shadowRoot
            .querySelectorAll('.m.s')].some(n => n.textContent.includes('assistant'))""", timeout=20_000)
        assert say(visitor, "Merci, et le samedi ?")

        # bob goes back to the list on his phone
        bob.click(".inbox-back a")
        bob.wait_for_selector(".inbox-list", state="visible")
    finally:
        for context in (alice_context, bob_context, visitor_context):
            context.close()
