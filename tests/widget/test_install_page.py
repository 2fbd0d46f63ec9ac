"""The install-widget page: snippets, allowed domains, appearance, installation check, troubleshooting."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from apps.widget.models import WidgetSettings, WidgetSighting
from apps.widget.services import rejection_record, sighting_record, widget_origins_set
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db


def test_it_shows_the_snippet_for_every_platform(cast, as_user):
    page = as_user(cast.alice, cast.client_a).get("/install/").content.decode()
    assert f'data-vocalia-key="{cast.pk_a}"' in page
    for platform in ("WordPress", "Shopify", "Wix", "React / Next.js", "Google Tag Manager"):
        assert platform in page
    assert "not seen yet" in page
    api, socket = re.search(r"connect-src (http\S+) (ws\S+)</code>", page).groups()  # strict CSP: API and voice socket
    assert socket == "ws" + api.removeprefix("http")
    assert f"{api}/static/widget/vocalia.js" in page
    assert "Speech is recognised here in: English;" in page


def test_it_manages_allowed_domains_within_the_plan(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    alice.post("/install/origins/", {"origin": "HTTPS://Shop.Example/"})
    alice.post("/install/origins/", {"origin": "not a domain"})
    assert WidgetSettings.objects.get(client=cast.client_a).allowed_origins == ["https://shop.example"]
    for n in range(10):
        alice.post("/install/origins/", {"origin": f"https://s{n}.example"})
    assert len(WidgetSettings.objects.get(client=cast.client_a).allowed_origins) == cast.client_a.plan.allowed_origins
    alice.post("/install/origins/", {"remove": "https://shop.example"})
    assert "https://shop.example" not in WidgetSettings.objects.get(client=cast.client_a).allowed_origins
    assert as_user(cast.bob, cast.client_a).post("/install/origins/", {"origin": "https://x.example"}).status_code \
        == 403


def test_it_saves_the_appearance(cast, as_user):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/install/appearance/", {"color": "#FF0066", "position": "start", "languages": ["en", "ar"],
                                                   "agent": agent.pk, "greeting": "Hi!", "launcher": "Ask us"})
    assert response.status_code == 302
    row = WidgetSettings.objects.get(client=cast.client_a)
    assert (row.color, row.position, row.languages, row.agent_id) == ("#ff0066", "start", ["en", "ar"], agent.pk)
    assert row.greeting["en"] == "Hi!" and row.launcher_text["en"] == "Ask us"
    alice.post("/install/appearance/", {"color": "red", "position": "start", "languages": ["en"]})
    assert WidgetSettings.objects.get(client=cast.client_a).color == "#ff0066"


def test_it_says_where_the_widget_was_seen_and_why_it_was_refused(cast, as_user):
    sighting_record(client=cast.client_a, origin="https://shop.example", page_url="https://shop.example/contact")
    rejection_record(client=cast.client_a, reason="origin_not_allowed", origin="https://other.example")
    rejection_record(client=cast.client_b, reason="key_revoked", origin="https://b.example")
    page = as_user(cast.alice, cast.client_a).get("/install/").content.decode()
    assert "Seen on https://shop.example" in page
    assert "https://other.example" in page and "not on the list of allowed domains" in page
    assert "https://b.example" not in page


def test_it_lets_the_dashboard_preview_the_real_widget(cast):
    widget_origins_set(client=cast.client_a, origins=[])
    make_agent(cast.client_a)
    response = HttpClient().get("/widget/v1/config", HTTP_X_VOCALIA_KEY=cast.pk_a,
                                HTTP_ORIGIN="http://alpha.localhost:8000")
    assert response.status_code == 200  # the client's own dashboard host, for the live preview
    other = HttpClient().get("/widget/v1/config", HTTP_X_VOCALIA_KEY=cast.pk_a,
                             HTTP_ORIGIN="http://bravo.localhost:8000")
    assert other.status_code == 403


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar", "ary"])
def test_it_names_the_closing_body_tag_as_code_in_every_language(cast, as_user, language):
    alice = as_user(cast.alice, cast.client_a)
    alice.cookies["django_language"] = language
    page = alice.get("/install/").content.decode()
    assert f'<html lang="{language}"' in page
    assert page.count("<code>&lt;/body&gt;</code>") == 4  # HTML, WordPress, Shopify and React instructions
    assert page.count("</body>") == 1  # the page's own: none swallowed by the browser as markup


def test_it_does_not_count_the_dashboards_own_preview_as_seen_on_the_site(cast, as_user):
    widget_origins_set(client=cast.client_a, origins=["https://shop.example"])

    def ping(origin: str) -> int:
        return HttpClient().post("/widget/v1/seen", {"page": f"{origin}/contact"}, content_type="application/json",
                                 HTTP_X_VOCALIA_KEY=cast.pk_a, HTTP_ORIGIN=origin).status_code

    assert ping("http://alpha.localhost:8000") == 200  # the install page's live preview, on alpha's own host
    assert ping("https://shop.example") == 200
    assert list(WidgetSighting.objects.filter(client=cast.client_a).values_list("origin", "count")) == [
        ("https://shop.example", 1)]
    assert sighting_record(client=cast.client_a, origin="http://localhost:8000") is False  # the platform host
    assert sighting_record(client=cast.client_a, origin="http://localhost:8001") is True  # `make site`'s page
    WidgetSighting.objects.create(client=cast.client_a, origin="http://alpha.localhost:8000")  # recorded before

    page = as_user(cast.alice, cast.client_a).get("/install/").content.decode()
    assert "Seen on https://shop.example" in page and "Seen on http://localhost:8001" in page
    assert "Seen on http://alpha.localhost:8000" not in page and "Seen on http://localhost:8000" not in page


def test_it_says_not_seen_yet_when_only_the_preview_ran(cast, as_user):
    HttpClient().post("/widget/v1/seen", {}, content_type="application/json", HTTP_X_VOCALIA_KEY=cast.pk_a,
                      HTTP_ORIGIN="http://alpha.localhost:8000")
    page = as_user(cast.alice, cast.client_a).get("/install/").content.decode()
    assert "not seen yet" in page and "Seen on" not in page
