"""The configurator (sector detection, template filling, recommendations) and the agent pages."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.agents.configurator import BusinessInfo, agent_create_from_draft, configure, detect_sector
from apps.agents.models import Agent
from apps.agents.sectors import sectors
from apps.core.errors import InvalidInput
from apps.knowledge.models import Document
from tests.agents.conftest import make_agent

DESCRIPTIONS = [
    ("fr", "Cabinet dentaire : détartrage, implants et orthodontie pour toute la famille", "dental"),
    ("en", "Family restaurant serving pizza and pasta, takeaway and table reservations", "restaurant"),
    ("es", "Peluquería y centro de estética: cortes, tintes, manicura", "beauty"),
    ("ar", "سباك وكهربائي لإصلاح الأعطال وصيانة التكييف في المنازل", "home_services"),
    ("ary", "وكالة عقارية فالدار البيضاء: كرا وبيع الشقق والديور", "real_estate"),
    ("fr", "Boutique en ligne de cosmétiques naturels, livraison en 48h", "ecommerce"),
    ("en", "Accounting firm and tax advice for small companies", "legal_accounting"),  # no longer professional
]


@pytest.mark.parametrize("language, description, expected", DESCRIPTIONS)
def test_it_detects_the_sector_and_says_why(language, description, expected):
    detection = detect_sector(BusinessInfo(name="X", description=description, language=language))
    assert detection.sector == expected, detection
    assert detection.confidence > 0.4 and detection.matched


def test_it_falls_back_to_general_when_unsure():
    detection = detect_sector(BusinessInfo(name="X", description="Nous faisons des choses", language="fr"))
    assert (detection.sector, detection.confidence) == ("general", 0.0)
    assert configure(BusinessInfo(name="X", description="…", language="fr")).warnings


def test_it_fills_every_template_in_every_language():
    for code in sectors():
        draft = configure(BusinessInfo(name="Chez Nous", description=code, hours="9h-18h", address="1 rue A",
                                       phone="0102030405", language="ary"))
        assert draft.languages[0] == "ary" and sorted(draft.languages) == ["ar", "ary", "en", "es", "fr"]
        for language in draft.languages:
            assert not any("{" in text or "}" in text for text in draft.texts[language].values())
        assert "Chez Nous" in draft.texts["ary"]["greeting"]
        assert all(tool["reason"] for tool in draft.tools)
        assert draft.voices["ary"]["voice"] == "ar"


def test_it_refuses_a_draft_without_a_name_or_with_an_unknown_language():
    with pytest.raises(InvalidInput):
        configure(BusinessInfo(name=" ", language="fr"))
    with pytest.raises(InvalidInput):
        configure(BusinessInfo(name="x", language="de"))


@pytest.mark.django_db
def test_it_creates_an_agent_and_its_faq_from_a_draft(cast):
    draft = configure(BusinessInfo(name="Dental", description="dentist and orthodontics", language="en"))
    with tenant_context(cast.client_a):
        agent = agent_create_from_draft(draft=draft, languages=["en", "fr"])
        assert agent.sector == "dental" and agent.languages == ["en", "fr"]
        assert Document.objects.filter(language="en", status="ready").count() == len(draft.faq["en"]) + 1


@pytest.mark.django_db
def test_it_walks_through_the_configurator_pages(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/agents/new/", {"name": "Sourire", "description": "Cabinet dentaire, implants",
                                           "language": "fr"})
    assert response.status_code == 302 and response["Location"] == "/agents/new/review/"
    review = alice.get("/agents/new/review/")
    assert review.status_code == 200 and "implants" in review.content.decode()
    response = alice.post("/agents/new/review/", {"name": "Accueil", "tools": ["book_appointment",
                                                                              "check_availability"],
                                                  "languages": ["fr", "ar"], "with_faq": ""})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        agent = Agent.objects.get(name="Accueil")
        assert agent.tools == ["book_appointment", "check_availability"] and not Document.objects.exists()


@pytest.mark.django_db
def test_it_keeps_members_from_creating_or_editing_agents(cast, as_user):
    agent = make_agent(cast.client_a)
    bob = as_user(cast.bob, cast.client_a)
    assert bob.get("/agents/new/").status_code == 403
    assert bob.post(f"/agents/{agent.pk}/", {"name": "Hacked"}).status_code == 403


@pytest.mark.django_db
def test_it_saves_an_agent_with_hours_and_an_encrypted_key(cast, as_user):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    form = {"name": "Front desk", "status": "active", "languages": ["fr", "en"], "default_language": "fr",
            "tools": ["search_knowledge_base"], "provider": "openai_compatible", "model": "gpt-4o-mini",
            "base_url": "", "temperature": "0.2", "appointment_minutes": "20", "buffer_minutes": "5",
            "handover_phone": "", "handover_email": "", "api_key": "sk-client-secret-999",
            "hours_mon": "08:00-12:00, 13:00-17:00", "hours_sun": ""}
    assert alice.post(f"/agents/{agent.pk}/", form).status_code == 302
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.business_hours["mon"] == [["08:00", "12:00"], ["13:00", "17:00"]]
        assert agent.business_hours["tue"] == [] and agent.api_key == "sk-client-secret-999"
        with connection.cursor() as cursor:
            cursor.execute("SELECT api_key FROM agents_agent WHERE id = %s", [agent.pk])
            assert "sk-client-secret-999" not in cursor.fetchone()[0]
    bad = alice.post(f"/agents/{agent.pk}/", {**form, "hours_mon": "9h to 5", "default_language": "es"})
    assert bad.status_code == 200
    assert "09:00-12:30" in bad.content.decode()


@pytest.mark.django_db
def test_it_chats_from_the_agent_page(cast, as_user):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    url = f"/agents/{agent.pk}/chat/"
    response = alice.post(url, json.dumps({"text": "Bonjour", "language": "fr"}), content_type="application/json",
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["events"][-1]["type"] == "TurnDone" and "Alpha" in body["events"][-1]["text"]
    again = alice.post(url, json.dumps({"text": "Bonjour", "conversation": body["conversation"]}),
                       content_type="application/json").json()
    assert again["conversation"] == body["conversation"]
    for payload, status in ((b"{not json", 400), (b"[]", 400), (json.dumps({"text": ""}).encode(), 400),
                            (json.dumps({"text": "x" * 20_000}).encode(), 413),
                            (json.dumps({"text": "hi", "language": "xx"}).encode(), 400)):
        response = alice.post(url, payload, content_type="application/json", HTTP_ACCEPT="application/json")
        assert response.status_code == status, payload
        assert response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/agents/", "/knowledge/", "/knowledge/?q=horaires", "/conversations/",
                                  "/conversations/?channel=phone&outcome=booked&from=2026-01-01&to=bad",
                                  "/leads/", "/tickets/", "/appointments/", "/appointments/?week=2026-02-30",
                                  "/outbox/"])
def test_it_renders_the_agent_pages_for_a_member(cast, as_user, path):
    make_agent(cast.client_a)
    assert as_user(cast.bob, cast.client_a).get(path).status_code == 200


@pytest.mark.django_db
def test_it_shows_a_transcript_only_to_its_client(cast, as_user, start):
    agent = make_agent(cast.client_a)
    conversation = start(cast.client_a, agent)
    assert as_user(cast.alice, cast.client_a).get(f"/conversations/{conversation.pk}/").status_code == 200
    make_agent(cast.client_b)
    assert as_user(cast.carol, cast.client_b).get(f"/conversations/{conversation.pk}/").status_code == 404
