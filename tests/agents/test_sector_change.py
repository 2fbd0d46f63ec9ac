"""Changing the sector: on the configurator's review step (the draft is made again) and on the agent page (the
agent takes the new sector's texts, tools, appointment length and starter FAQ; its name, languages, business
information, hours, key and the documents the user added are kept). Issue 10: "no way to change the detected
sector"."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.agents.configurator import BusinessInfo, agent_create_from_draft, configure
from apps.agents.models import Agent
from apps.agents.services import agent_sector_change
from apps.audit.models import AuditEvent
from apps.core.errors import InvalidInput, PermissionDenied
from apps.knowledge.models import Document
from apps.knowledge.services import documents_import
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
RIAD = "Maison avec restaurant et terrasse à Marrakech, mardi–dimanche 9h–23h, fermé lundi"


def riad_as_restaurant(cast):
    draft = configure(BusinessInfo(name="Riad Yasmine", description=RIAD, language="fr"))
    assert draft.detection.sector == "restaurant"
    with tenant_context(cast.client_a):
        agent = agent_create_from_draft(draft=draft, languages=["fr", "ar"])
        Agent.objects.filter(pk=agent.pk).update(api_key="sk-own-key", handover_phone="+212600000000")
        own = documents_import(rows=[{"title": "Nos chambres", "text": "Douze chambres autour du patio."}],
                               language="fr", agents=[agent])[0]
        agent.refresh_from_db()
    return agent, own


def test_the_agent_takes_the_new_sectors_defaults_and_keeps_the_rest(cast):
    agent, own = riad_as_restaurant(cast)
    with tenant_context(cast.client_a):
        hours_before = agent.business_hours
        changed = agent_sector_change(client=cast.client_a, agent=agent, actor=cast.alice, sector="hotel")
        changed.refresh_from_db()
        assert changed.sector == "hotel"
        assert "séjour" in changed.texts["fr"]["greeting"] and "Riad Yasmine" in changed.texts["ar"]["greeting"]
        assert set(changed.texts) == {"fr", "ar"}
        assert "qualify_lead" in changed.tools and "book_appointment" not in changed.tools
        # kept
        assert (changed.name, changed.languages, changed.business_hours) == (agent.name, ["fr", "ar"], hours_before)
        assert changed.api_key == "sk-own-key" and changed.handover_phone == "+212600000000"
        assert changed.business == agent.business
        # the texts say the agent's own hours, not the hotel's usual 24/7
        assert "mardi–dimanche 09:00–23:00" in changed.texts["fr"]["instructions"]
        # the starter FAQ is the hotel's now; the user's own document stays
        titles = set(Document.objects.filter(agents=changed).values_list("title", flat=True))
        assert "Nos chambres" in titles and Document.objects.filter(pk=own.pk).exists()
        assert "À quelle heure est l'arrivée et le départ ?" in titles
        assert "Faut-il réserver ?" not in titles and not any("menu" in title.lower() for title in titles)
        event = AuditEvent.objects.filter(action="agent.sector_changed").latest("id")
        assert event.data["from"] == "restaurant" and event.data["to"] == "hotel" and event.data["faq_removed"] > 0


def test_the_starter_faq_can_be_kept(cast):
    agent, _own = riad_as_restaurant(cast)
    with tenant_context(cast.client_a):
        before = set(Document.objects.filter(agents=agent).values_list("pk", flat=True))
        agent_sector_change(client=cast.client_a, agent=agent, actor=cast.alice, sector="hotel", replace_faq=False)
        assert set(Document.objects.filter(agents=agent).values_list("pk", flat=True)) == before


def test_a_shared_document_with_a_starter_title_is_kept(cast):
    agent = make_agent(cast.client_a, sector="restaurant")
    with tenant_context(cast.client_a):
        shared = documents_import(rows=[{"title": "Quels sont vos horaires ?", "text": "9h-18h"}], language="fr")[0]
        agent_sector_change(client=cast.client_a, agent=agent, actor=cast.alice, sector="hotel")
        assert Document.objects.filter(pk=shared.pk).exists()  # every agent's: not this agent's starter FAQ


def test_only_managers_and_known_sectors(cast):
    agent = make_agent(cast.client_a, sector="restaurant")
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):
            agent_sector_change(client=cast.client_a, agent=agent, actor=cast.bob, sector="hotel")
        with pytest.raises(InvalidInput):
            agent_sector_change(client=cast.client_a, agent=agent, actor=cast.alice, sector="casino")
        agent.refresh_from_db()
        assert agent.sector == "restaurant"


def test_the_agent_page_changes_the_sector(cast, as_user):
    agent = make_agent(cast.client_a, sector="restaurant")
    alice = as_user(cast.alice, cast.client_a)
    page = alice.get(f"/agents/{agent.pk}/").content.decode()
    assert f'action="/agents/{agent.pk}/sector/"' in page and 'value="hotel"' in page
    response = alice.post(f"/agents/{agent.pk}/sector/", {"sector": "car_repair", "replace_faq": "on"})
    assert response.status_code == 302 and response["Location"] == f"/agents/{agent.pk}/"
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.sector == "car_repair" and agent.appointment_minutes == 60


@pytest.mark.parametrize("body", ["sector=casino", "sector=hotel%00", "sector=%ED%A0%80", "", "sector=%FF%FE",
                                  "sector=" + "x" * 100_000, "sector=hotel&sector=casino&replace_faq=1e999"])
def test_the_agent_page_refuses_bad_sectors(cast, as_user, body):
    """Unknown, NUL, a lone surrogate (as the bytes a browser would send), nothing, huge: refused, nothing changed."""
    agent = make_agent(cast.client_a, sector="restaurant")
    response = as_user(cast.alice, cast.client_a).post(f"/agents/{agent.pk}/sector/", body,
                                                       content_type="application/x-www-form-urlencoded")
    assert response.status_code in {302, 400}
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.sector == "restaurant"


def test_members_other_clients_and_gets_cannot_change_it(cast, as_user):
    agent = make_agent(cast.client_a, sector="restaurant")
    assert as_user(cast.bob, cast.client_a).post(f"/agents/{agent.pk}/sector/", {"sector": "hotel"}).status_code \
        == 403
    make_agent(cast.client_b)
    assert as_user(cast.carol, cast.client_b).post(f"/agents/{agent.pk}/sector/",
                                                   {"sector": "hotel"}).status_code == 404
    assert as_user(cast.alice, cast.client_a).get(f"/agents/{agent.pk}/sector/").status_code == 405
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.sector == "restaurant"


def test_the_review_step_changes_the_sector(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    alice.post("/agents/new/", {"name": "Riad Yasmine", "description": RIAD, "language": "fr"})
    review = alice.get("/agents/new/review/").content.decode()
    assert "Restaurant" in review and 'name="sector"' in review
    assert "mardi–dimanche 09:00–23:00" in review  # the hours read, shown
    response = alice.post("/agents/new/review/", {"sector": "hotel"})
    assert response.status_code == 302 and response["Location"] == "/agents/new/review/"
    review = alice.get("/agents/new/review/").content.decode()
    assert "séjour" in review and "errorlist" not in review and "badge bad" not in review  # a fresh form, no errors
    bad = alice.post("/agents/new/review/", {"sector": "casino"})
    assert bad.status_code == 200  # the review page again, the draft unchanged
    response = alice.post("/agents/new/review/", {"name": "Accueil riad", "tools": ["qualify_lead"],
                                                  "languages": ["fr"], "with_faq": ""})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        agent = Agent.objects.get(name="Accueil riad")
        assert agent.sector == "hotel" and agent.business_hours["mon"] == [] \
            and agent.business_hours["sun"] == [["09:00", "23:00"]]
