"""The widget on a foreign origin, in a real Chromium: chat, booking, RTL, queued calls, strict CSP,
and a refused origin."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.bookings.models import Appointment
from apps.conversations.models import Conversation
from apps.widget.models import WidgetRejection
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent
from tests.browser.conftest import ARTIFACTS, VOICE_QUESTION, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">{csp}<title>Shop</title></head>
<body><h1>A client's own website</h1>
{stub}
<script src="{api}/static/widget/vocalia.js" data-vocalia-key="{key}" {attrs} async></script>
</body></html>"""
STUB = '<script src="stub.js"></script>'
STUB_JS = "window.Vocalia=window.Vocalia||function(){(window.Vocalia.q=window.Vocalia.q||[]).push(arguments)};" \
          "Vocalia('open');"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    port = _free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def site(tmp_path_factory, live_server_url, session_cast, django_db_blocker):
    """Two foreign sites: one allowed, one not. The API is on the live server's host."""
    api = f"http://{live_server_url}"
    folder = tmp_path_factory.mktemp("site")
    (folder / "stub.js").write_text(STUB_JS)
    key = session_cast.pk_a
    pages = {
        "index.html": PAGE.format(lang="fr", csp="", stub="", api=api, key=key, attrs=""),
        "queued.html": PAGE.format(lang="en", csp="", stub=STUB, api=api, key=key, attrs=""),
        "voice.html": PAGE.format(lang="en", csp="", stub="", api=api, key=key, attrs=""),
        "arabic.html": PAGE.format(lang="ar", csp="", stub="", api=api, key=key, attrs='data-lang="ar"'),
        "csp.html": PAGE.format(lang="fr", stub="", api=api, key=key, attrs="", csp=(
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src {api}; '
            f'connect-src {api}; style-src \'none\'; img-src \'none\'">')),
    }
    for name, html in pages.items():
        (folder / name).write_text(html)
    allowed, allowed_url = serve(folder)
    refused, refused_url = serve(folder)
    with django_db_blocker.unblock():
        widget_origins_set(client=session_cast.client_a, origins=[allowed_url])
        make_agent(session_cast.client_a)
    yield {"allowed": allowed_url, "refused": refused_url}
    allowed.shutdown()
    refused.shutdown()


def open_widget(page):
    page.wait_for_selector("#vocalia-widget", state="attached")
    page.click(".launch")
    page.wait_for_selector(".panel", state="visible")


def say(page, text):
    count = page.locator(".m.a").count()
    page.fill("textarea", text)
    page.press("textarea", "Enter")
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('#vocalia-widget').shadowRoot;
                    const a = r.querySelectorAll('.m.a'); return a.length > {count} && !r.querySelector('.typing')
                    && !r.querySelector('.send').disabled; }}""", timeout=10_000)
    return page.locator(".m.a").last.inner_text()


def test_it_chats_from_a_foreign_origin(page, site):
    page.goto(f"{site['allowed']}/index.html")
    open_widget(page)
    reply = say(page, "Bonjour")
    assert "Alpha" in page.locator(".m.a").first.inner_text()  # the greeting from the widget's config
    assert reply and "Alpha" not in reply  # then the agent's own answer, not the greeting again
    assert page.evaluate("document.getElementById('vocalia-widget').shadowRoot !== null")


def test_the_greeting_shows_at_once_first_and_survives_a_reload(page, site):
    """Seen: the greeting appeared only after the visitor's first message, below it, and was gone after a reload."""
    page.goto(f"{site['allowed']}/index.html")
    open_widget(page)
    page.wait_for_selector(".m.a")  # before anything is typed
    assert page.locator(".m").count() == 1 and "Alpha" in page.locator(".m.a").first.inner_text()
    reply = say(page, "Quels sont vos horaires ?")
    kinds = page.evaluate("""() => [...document.querySelector('#vocalia-widget').shadowRoot
                                     .querySelectorAll('.m')].map(n => n.className.replace('m ', ''))""")
    assert kinds == ["a", "u", "a"]
    page.screenshot(path=str(ARTIFACTS / "widget-greeting-before-reload.png"))
    page.reload()
    open_widget(page)
    page.wait_for_function("() => document.querySelector('#vocalia-widget').shadowRoot"
                           ".querySelectorAll('.m').length >= 3", timeout=10_000)
    texts = page.locator(".m").all_inner_texts()
    assert "Alpha" in texts[0] and texts[1] == "Quels sont vos horaires ?" and texts[2] == reply
    assert len(texts) == 3  # the same conversation, restored: the greeting once, first
    page.screenshot(path=str(ARTIFACTS / "widget-greeting-after-reload.png"))


def test_it_books_an_appointment_through_the_widget(page, site, session_cast, django_db_blocker):
    page.goto(f"{site['allowed']}/index.html")
    open_widget(page)
    say(page, "Je voudrais un rendez-vous mardi")
    say(page, "le premier")
    say(page, "Je m'appelle Inès Widget")
    say(page, "ines@example.com")
    page.wait_for_selector(".card")
    assert "RDV-" in page.locator(".card").inner_text()
    with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
        assert Appointment.objects.filter(customer_name="Inès Widget").exists()


BOOKING_FLOWS = {"fr": ["Je voudrais un rendez-vous mardi", "le premier", "Je m'appelle Inès Fuseau",
                        "ines@example.com"],
                 "ar": ["مرحبا، أريد حجز موعد يوم الثلاثاء", "الأول", "اسمي أحمد علي", "0612345678"]}


@pytest.mark.parametrize("language, page_name", [("fr", "index.html"), ("ar", "arabic.html")])
def test_it_shows_on_the_card_the_hour_the_agent_said_in_another_time_zone(browser, site, language, page_name):
    """The visitor's browser is in New York, the client in Paris: the card shows the Paris hour, named."""
    import re

    context = browser.new_context(viewport={"width": 390, "height": 800}, timezone_id="America/New_York",
                                  locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{site['allowed']}/{page_name}")
        open_widget(page)
        for text in BOOKING_FLOWS[language]:
            said = say(page, text)
        page.wait_for_selector(".card")
        card = page.locator(".card").inner_text()
        hour = re.search(r"\d{1,2}:\d{2}", said)
        assert hour, said
        assert hour.group(0) in card, (said, card)
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "America/New_York"
        assert ("France" if language == "fr" else "فرنسا") in card, card  # the client's zone, named
        page.screenshot(path=str(ARTIFACTS / f"widget-card-{language}-390.png"))
    finally:
        context.close()


def test_it_lays_out_arabic_right_to_left(page, site):
    page.goto(f"{site['allowed']}/arabic.html")
    open_widget(page)
    assert page.locator(".w").get_attribute("dir") == "rtl"
    assert page.locator(".launch").count() == 1
    say(page, "مرحبا")
    page.screenshot(path=str(ARTIFACTS / "widget-ar.png"))


def test_it_runs_calls_queued_before_it_loaded(page, site):
    page.goto(f"{site['allowed']}/queued.html")
    page.wait_for_selector(".panel", state="visible")  # Vocalia('open') ran before the script loaded
    assert page.locator(".w").get_attribute("lang") == "en"


def test_it_works_under_a_strict_content_security_policy(page, site):
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto(f"{site['allowed']}/csp.html")
    open_widget(page)
    assert say(page, "Bonjour")
    color = page.evaluate("getComputedStyle(document.getElementById('vocalia-widget').shadowRoot"
                          ".querySelector('.launch, .send')).backgroundColor")
    assert color == "rgb(79, 70, 229)"  # the shadow root's stylesheet applied despite style-src 'none'
    assert not violations, violations


def test_it_shows_nothing_on_a_refused_origin_and_says_why(page, site, session_cast, django_db_blocker):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{site['refused']}/index.html")
    page.wait_for_function("() => true")
    page.wait_for_timeout(1500)
    assert page.locator("#vocalia-widget").count() == 0
    assert any("[Vocalia]" in error and "allowed domains" in error for error in errors), errors
    with django_db_blocker.unblock():
        assert WidgetRejection.objects.filter(client=session_cast.client_a, reason="origin_not_allowed",
                                              origin=site["refused"]).exists()


def test_it_talks_over_the_voice_socket_with_a_fake_microphone(page, site, session_cast, django_db_blocker):
    """Chromium's fake microphone plays an espeak-ng question; the server hears it and answers aloud."""
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{site['allowed']}/voice.html")
    page.evaluate("""() => { window.__voice = []; window.__messages = [];
        addEventListener('vocalia:voice', e => __voice.push(e.detail.state));
        addEventListener('vocalia:message', e => __messages.push(e.detail)); }""")
    open_widget(page)
    page.click(".mic")
    try:
        page.wait_for_function("() => window.__voice.includes('speaking')", timeout=30_000)
    except Exception:
        raise AssertionError(f"no speech: {page.evaluate('[window.__voice, window.__messages]')} {console}") from None
    page.wait_for_function("() => window.__voice[window.__voice.length - 1] === 'listening'", timeout=30_000)
    messages = page.evaluate("window.__messages")
    assert {"role": "user", "text": VOICE_QUESTION} in messages
    assert any(m["role"] == "assistant" and m["text"] for m in messages)
    assert page.locator(".mic").get_attribute("aria-pressed") == "true"
    assert page.locator(".mic").get_attribute("aria-label") == "Hang up"
    assert page.locator(".status").inner_text() == "Listening…"
    page.screenshot(path=str(ARTIFACTS / "widget-voice.png"))
    page.click(".mic")  # hang up
    assert page.evaluate("window.__voice[window.__voice.length - 1]") == "idle"
    assert page.locator(".status").inner_text() == "" and page.locator(".mic").get_attribute("aria-label") == "Speak"
    with django_db_blocker.unblock(), tenant_context(session_cast.client_a):
        conversation = Conversation.objects.filter(channel=Conversation.Channel.WIDGET_VOICE).latest("id")
        assert conversation.messages.filter(role="user", text=VOICE_QUESTION).exists()
