"""Each resource of the REST API answers what its selector or service says, in the documented shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.bookings.models import Appointment
from apps.knowledge.models import Document
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_it_lists_and_gets_agents(cast, api_a, world):
    listed = api_a.get("agents").json()
    assert listed["object"] == "list" and listed["has_more"] is False and listed["next_cursor"] is None
    assert [row["id"] for row in listed["data"]] == [world.agent.pk]
    one = api_a.get(f"agents/{world.agent.pk}").json()
    assert (one["object"], one["name"], one["languages"]) == ("agent", "Reception", world.agent.languages)
    assert "api_key" not in one and "base_url" not in one
    assert api_a.get("agents", {"status": "paused"}).json()["data"] == []


def test_it_updates_an_agent_and_audits_it_as_the_key(cast, api_a, world):
    response = api_a.patch(f"agents/{world.agent.pk}", {"status": "paused", "temperature": 0.5,
                                                        "texts": {"fr": {"greeting": "Bonsoir !"}}})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["temperature"]) == ("paused", 0.5)
    with tenant_context(cast.client_a):
        agent = Agent.objects.get(pk=world.agent.pk)
        assert (agent.status, agent.texts["fr"]["greeting"], agent.texts["fr"]["closing"]) == (
            "paused", "Bonsoir !", "À bientôt !")
        audit = AuditEvent.objects.filter(action="agent.updated").latest("id")
    assert audit.actor_email == "api@alpha" and set(audit.data["changed"]) == {"status", "temperature", "texts"}


@pytest.mark.parametrize("body, param", [
    ({"status": "asleep"}, "status"),
    ({"temperature": 9}, "temperature"),
    ({"languages": []}, "languages"),
    ({"languages": ["de"]}, "languages"),
    ({"texts": {"de": {"greeting": "Hallo"}}}, "texts"),
    ({"texts": {"fr": {"password": "x"}}}, "texts"),
    ({"appointment_minutes": 0}, "appointment_minutes"),
    ({"languages": ["fr"], "default_language": "en"}, "default_language"),
    ({"name": ""}, "name"),
])
def test_it_refuses_a_bad_agent_update_naming_the_field(cast, api_a, world, body, param):
    error = assert_error(api_a.patch(f"agents/{world.agent.pk}", body), 400, "invalid_input")
    assert error["param"] == param and param in error["fields"]
    with tenant_context(cast.client_a):
        assert Agent.objects.get(pk=world.agent.pk).status == "active"


def test_it_uploads_a_text_document_and_reports_its_status(cast, api_a):
    response = api_a.post("knowledge/documents", {"kind": "text", "language": "fr", "title": "Horaires",
                                                  "text": "Ouvert de 9h à 18h."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["object"], body["status"], body["title"]) == ("document", "pending", "Horaires")
    status = api_a.get(f"knowledge/documents/{body['id']}").json()
    assert status["status"] == "pending" and status["progress"] == 0
    with tenant_context(cast.client_a):
        assert Document.objects.get(pk=body["id"]).raw_text == "Ouvert de 9h à 18h."
        assert AuditEvent.objects.filter(action="knowledge.document_added", actor_email="api@alpha").exists()


def test_it_uploads_a_pdf_as_multipart(cast, api_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pdf = SimpleUploadedFile("tarifs.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    response = api_a.http.post("/api/v1/knowledge/documents", {"kind": "pdf", "language": "fr", "file": pdf},
                               HTTP_AUTHORIZATION=f"Bearer {cast.sk_a}")
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["title"]) == ("pdf", "tarifs.pdf")


def test_it_refuses_a_document_for_an_agent_the_client_does_not_have(cast, api_a, world):
    error = assert_error(api_a.post("knowledge/documents", {"kind": "text", "language": "fr", "text": "x",
                                                            "agents": [world.agent.pk + 1000]}), 400)
    assert error["param"] == "agents"


def test_it_deletes_a_document(cast, api_a, world):
    response = api_a.delete(f"knowledge/documents/{world.document.pk}")
    assert response.status_code == 204
    with tenant_context(cast.client_a):
        assert not Document.objects.filter(pk=world.document.pk).exists()
    assert_error(api_a.get(f"knowledge/documents/{world.document.pk}"), 404, "not_found")


def test_it_lists_conversations_and_their_messages_oldest_first(cast, api_a, world):
    listed = api_a.get("conversations", {"channel": "widget_text"}).json()["data"]
    assert [row["id"] for row in listed] == [world.conversation.pk]
    everything = api_a.get("conversations").json()["data"]  # newest first: the world's phone call came after
    assert [row["id"] for row in everything] == [world.phone_call.conversation_id, world.conversation.pk]
    assert listed[0]["agent"] == world.agent.pk and listed[0]["channel"] == "widget_text"
    messages = api_a.get(f"conversations/{world.conversation.pk}/messages").json()["data"]
    assert [row["text"] for row in messages] == ["Bonjour", "Bonjour !"]
    assert api_a.get(f"conversations/{world.conversation.pk}/messages", {"role": "assistant"}).json()["data"][0][
        "text"] == "Bonjour !"
    assert [row["id"] for row in api_a.get("conversations", {"channel": "phone"}).json()["data"]] == [
        world.phone_call.conversation_id]
    assert api_a.get("conversations", {"channel": "email"}).json()["data"] == []


def test_it_lists_and_gets_leads_tickets_and_callbacks(cast, api_a, world):
    for path, row, field, value in (("leads", world.lead, "name", "Marie"),
                                    ("tickets", world.ticket, "subject", "Facture"),
                                    ("callbacks", world.callback, "phone", "+33612345678")):
        assert [item["id"] for item in api_a.get(path).json()["data"]] == [row.pk]
        assert api_a.get(f"{path}/{row.pk}").json()[field] == value
    assert api_a.get("leads", {"min_score": 100}).json()["data"] == []
    assert api_a.get("tickets", {"priority": "normal"}).json()["data"][0]["id"] == world.ticket.pk


def test_it_books_moves_and_cancels_an_appointment_by_the_agents_rules(cast, api_a, world):
    start = world.slots[0]
    booked = api_a.post("appointments", {"agent": world.agent.pk, "start": start.isoformat(),
                                         "customer_name": "Paul"})
    assert booked.status_code == 201, booked.content
    first = booked.json()
    assert first["reference"].startswith("RDV-") and first["status"] == "booked"
    taken = api_a.post("appointments", {"agent": world.agent.pk, "start": start.isoformat(),
                                        "customer_name": "Zoé"})
    assert_error(taken, 409, "conflict")  # PostgreSQL's exclusion constraint: the agent's booking gets the same
    moved = api_a.post(f"appointments/{first['id']}/move", {"start": world.slots[1].isoformat()})
    assert moved.status_code == 201, moved.content
    assert moved.json()["id"] != first["id"]
    assert api_a.get(f"appointments/{first['id']}").json()["status"] == "cancelled"
    cancelled = api_a.post(f"appointments/{moved.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert_error(api_a.post(f"appointments/{first['id']}/move", {"start": world.slots[2].isoformat()}), 409,
                 "conflict")


@pytest.mark.parametrize("start, code", [
    ("2026-12-03T10:00:00", "invalid_input"),  # no offset
    ("03/12/2026 10:00", "invalid_input"),
    ("9999-12-31T10:00:00+00:00", "invalid_input"),
    ("0001-01-01T00:00:00+05:00", "invalid_input"),
])
def test_it_refuses_a_booking_time_it_cannot_read(cast, api_a, world, start, code):
    assert_error(api_a.post("appointments", {"agent": world.agent.pk, "start": start, "customer_name": "P"}),
                 400, code)
    with tenant_context(cast.client_a):
        assert Appointment.objects.count() == 1


def test_it_refuses_a_booking_outside_opening_hours_or_too_far(cast, api_a, world):
    far = (timezone.now() + timedelta(days=400)).isoformat()
    assert_error(api_a.post("appointments", {"agent": world.agent.pk, "start": far, "customer_name": "P"}), 400)
    night = world.slots[0].replace(hour=3).isoformat()
    assert_error(api_a.post("appointments", {"agent": world.agent.pk, "start": night, "customer_name": "P"}), 400)


def test_it_reports_usage(cast, api_a, world):
    body = api_a.get("usage").json()
    assert body["object"] == "usage"
    month = body["months"][0]
    assert month["month"] == body["period"] and month["counters"]["conversations"] >= 1
    quotas = {row["quota"]: row for row in body["quotas"]}
    assert quotas["monthly_conversations"]["used"] == month["counters"]["conversations"]
