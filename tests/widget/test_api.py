"""The widget API: keys, origins, CORS, tokens, rate limits, streaming, and every bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import Client as HttpClient
from django.utils import translation
from django_tenants.utils import tenant_context

from apps.clients import services as client_services
from apps.clients.models import ApiKey, Plan
from apps.conversations.models import Message
from apps.crm.models import Lead
from apps.usage.services import usage_increment
from apps.widget import tokens
from apps.widget.models import WidgetRejection, WidgetSighting
from apps.widget.origins import normalise_origin, origin_allowed
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example"


@pytest.fixture
def widget(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP, "https://*.brand.example", "http://localhost:8001"])
    make_agent(cast.client_a)
    return cast


def call(method, path, key, origin=SHOP, body=None, token=None, accept="application/json", raw=None):
    headers = {"HTTP_ACCEPT": accept}
    if key is not None:
        headers["HTTP_X_VOCALIA_KEY"] = key
    if origin:
        headers["HTTP_ORIGIN"] = origin
    if token:
        headers["HTTP_X_VOCALIA_TOKEN"] = token
    http = HttpClient()
    if method == "GET":
        return http.get(f"/widget/v1/{path}", **headers)
    if method == "OPTIONS":
        return http.options(f"/widget/v1/{path}", **headers)
    data = raw if raw is not None else json.dumps(body or {})
    return http.post(f"/widget/v1/{path}", data, content_type="application/json", **headers)


async def collect(iterator):
    return [chunk async for chunk in iterator]


def start(cast, language="fr"):
    response = call("POST", "conversations", cast.pk_a, body={"language": language, "visitor": "v1"})
    assert response.status_code == 201, response.content
    return response.json()


def test_it_serves_the_config_to_an_allowed_origin(widget):
    response = call("GET", "config", widget.pk_a)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    body = response.json()
    assert body["client"]["name"] == "Client ALPHA" and body["theme"]["color"] == "#4f46e5"
    assert "Alpha" in body["greeting"]["fr"] and body["features"]["booking"] is True
    # the test agent has no Arabic text: a plain Arabic greeting, not the French one
    assert body["greeting"]["ar"] == "مرحبًا! كيف يمكنني مساعدتك؟" and body["greeting"]["ary"]


def test_it_answers_preflights(widget):
    response = call("OPTIONS", "messages", widget.pk_a)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "X-Vocalia-Token" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("origin, allowed", [
    (SHOP, True), ("https://shop.example:443", True), ("http://shop.example", False),
    ("https://shop.example:8443", False), ("https://evil.example", False), ("https://shop.example.evil.com", False),
    ("https://www.brand.example", True), ("https://a.b.brand.example", True), ("https://brand.example", False),
    ("http://localhost:8001", True), ("http://localhost:8002", False), ("null", False),
])
def test_it_checks_the_origin_exactly(widget, origin, allowed):
    response = call("GET", "config", widget.pk_a, origin=origin)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert response.json()["error"]["code"] == "origin_not_allowed"


def test_it_records_why_it_refused(widget):
    call("GET", "config", widget.pk_a, origin="https://evil.example")
    call("GET", "config", widget.pk_a, origin="https://evil.example")
    rejection = WidgetRejection.objects.get(client=widget.client_a, reason="origin_not_allowed",
                                            origin="https://evil.example")
    assert (rejection.origin, rejection.count) == ("https://evil.example", 2)
    key = ApiKey.objects.get(lookup=widget.pk_a)
    client_services.key_revoke(key=key, actor=widget.alice)
    assert call("GET", "config", widget.pk_a).status_code == 401
    assert WidgetRejection.objects.filter(client=widget.client_a, reason="key_revoked").exists()


@pytest.mark.parametrize("key", [None, "", "pk_nope", "pk_" + "x" * 24, "sk_" + "a" * 12])
def test_it_refuses_bad_keys_with_401_json(widget, key):
    response = call("GET", "config", key)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_key"
    assert response["Access-Control-Allow-Origin"] == SHOP


def test_it_refuses_a_missing_origin_and_an_empty_allow_list(widget):
    assert call("GET", "config", widget.pk_a, origin="").status_code == 403
    response = call("GET", "config", widget.pk_b, origin=SHOP)
    assert response.status_code == 403
    assert WidgetRejection.objects.filter(client=widget.client_b, reason="no_allowed_origins").exists()


def test_it_chats_in_json(widget):
    conversation = start(widget)
    response = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
    assert response.status_code == 200
    body = response.json()
    # the widget showed the greeting already: the agent does not repeat it
    with translation.override("fr"):
        assert body["reply"] == translation.gettext("Hello! How can I help you?")
    assert body["events"][-1]["type"] == "done"
    history = call("GET", "history", widget.pk_a, token=conversation["token"]).json()
    # the greeting the widget showed first is the conversation's first message: a reload shows it again, first
    assert [m["role"] for m in history["messages"]] == ["assistant", "user", "assistant"]
    assert history["messages"][0]["text"] == "Bonjour, bienvenue chez Alpha !"


def test_it_streams_server_sent_events(widget):
    conversation = start(widget)
    response = call("POST", "messages", widget.pk_a, body={"text": "Je voudrais un rendez-vous mardi"},
                    token=conversation["token"], accept="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    stream = b"".join(async_to_sync(collect)(response.streaming_content)).decode()
    assert "event: delta" in stream and "event: done" in stream
    assert response["Access-Control-Allow-Origin"] == SHOP


def test_it_renders_a_booking_card_event(widget):
    conversation = start(widget)
    for text in ["Je voudrais un rendez-vous mardi", "le premier", "Je m'appelle Ana Lopez", "ana@example.com"]:
        response = call("POST", "messages", widget.pk_a, body={"text": text}, token=conversation["token"])
    booking = next(e for e in response.json()["events"] if e["type"] == "booking")
    assert booking["reference"].startswith("RDV-") and booking["name"] == "Ana Lopez"


def test_it_gives_the_booking_card_the_clients_time_zone_and_the_hour_the_agent_said(widget):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    conversation = start(widget)
    for text in ["Je voudrais un rendez-vous mardi", "le premier", "Je m'appelle Ana Lopez", "ana@example.com"]:
        response = call("POST", "messages", widget.pk_a, body={"text": text}, token=conversation["token"])
    events = response.json()["events"]
    booking = next(e for e in events if e["type"] == "booking")
    said = next(e for e in events if e["type"] == "done")["text"]
    assert booking["timezone"] == "Europe/Paris"
    start_at = datetime.fromisoformat(booking["start"])
    assert start_at.utcoffset() == start_at.astimezone(ZoneInfo("Europe/Paris")).utcoffset()  # local time, offset
    assert f"{start_at:%H:%M}" in said  # the card formats this local hour in this zone: the hour the agent said


@pytest.mark.parametrize("raw, status, code", [
    ("{not json", 400, "invalid_input"), ("[1, 2]", 400, "invalid_input"), ('{"text": 5}', 400, "invalid_input"),
    ('{"text": ""}', 400, "invalid_input"), (json.dumps({"text": "x" * 20_000}), 413, "payload_too_large"),
])
def test_it_refuses_bad_messages(widget, raw, status, code):
    conversation = start(widget)
    response = call("POST", "messages", widget.pk_a, raw=raw, token=conversation["token"])
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    with tenant_context(widget.client_a):
        kept = Message.objects.filter(conversation_id=conversation["conversation"])
        assert [(m.role, m.provider) for m in kept] == [("assistant", "greeting")]  # only the greeting it opened with


def test_it_refuses_missing_forged_expired_and_foreign_tokens(widget, monkeypatch):
    conversation = start(widget)
    for token in (None, "forged", conversation["token"] + "x"):
        response = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=token)
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    foreign = tokens.token_issue(client_id=widget.client_b.pk, conversation_id=conversation["conversation"],
                                 visitor="v")
    assert call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=foreign).status_code == 401
    monkeypatch.setattr(tokens, "TOKEN_TTL", timedelta(seconds=-1))
    expired = call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
    assert expired.status_code == 401


def test_it_rate_limits_a_visitor_with_retry_after(widget, settings):
    settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE = 3
    conversation = start(widget)
    statuses = [call("POST", "messages", widget.pk_a, body={"text": "Bonjour"}, token=conversation["token"])
                for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert 1 <= int(statuses[-1]["Retry-After"]) <= 60
    assert statuses[-1]["Access-Control-Expose-Headers"] == "Retry-After"


def test_it_stops_new_conversations_past_the_monthly_quota(widget):
    with tenant_context(widget.client_a):
        usage_increment(metric="conversations", amount=Plan.objects.get(code="pro").monthly_conversations)
    response = call("POST", "conversations", widget.pk_a, body={"language": "fr"})
    assert response.status_code == 429 and response.json()["error"]["code"] == "quota_exceeded"


def test_it_records_where_it_was_seen_and_captures_leads(widget):
    assert call("POST", "seen", widget.pk_a, body={"page": "https://shop.example/contact"}).status_code == 200
    call("POST", "seen", widget.pk_a, body={"page": "https://shop.example/"})
    sighting = WidgetSighting.objects.get(client=widget.client_a, origin=SHOP)
    assert (sighting.origin, sighting.count, sighting.page_url) == (SHOP, 2, "https://shop.example/")
    response = call("POST", "leads", widget.pk_a, body={"name": "Zoé", "email": "zoe@example.com",
                                                       "message": "Je veux un devis"})
    assert response.status_code == 201
    with tenant_context(widget.client_a):
        assert Lead.objects.get(pk=response.json()["lead"]).email == "zoe@example.com"
    assert call("POST", "leads", widget.pk_a, body={"message": "no contact"}).status_code == 400


def test_it_refuses_other_methods(widget):
    assert call("POST", "config", widget.pk_a).status_code == 405
    assert call("GET", "messages", widget.pk_a).status_code == 405


def test_it_refuses_a_suspended_client(widget):
    client_services.client_suspend(client=widget.client_a, actor=widget.staff)
    assert call("GET", "config", widget.pk_a).status_code == 403


@pytest.mark.parametrize("value, expected", [
    ("HTTPS://Shop.Example:443/", "https://shop.example"), ("http://localhost:8001", "http://localhost:8001"),
    ("https://*.brand.example", "https://*.brand.example"),
])
def test_it_normalises_origins(value, expected):
    assert normalise_origin(value) == expected
    assert origin_allowed("https://shop.example", ["https://shop.example"])


def test_it_serves_a_cached_config_that_follows_changes(widget):
    first = call("GET", "config", widget.pk_a).json()
    with tenant_context(widget.client_a):
        from apps.agents.models import Agent

        agent = Agent.objects.get()
        agent.texts = {**agent.texts, "fr": {"greeting": "Salut, c'est nouveau !"}}
        agent.save()
    second = call("GET", "config", widget.pk_a).json()
    assert first["greeting"]["fr"] != second["greeting"]["fr"] == "Salut, c'est nouveau !"
    widget_origins_set(client=widget.client_a, origins=["https://other.example"])
    assert call("GET", "config", widget.pk_a).status_code == 403  # the allow-list is never served stale
