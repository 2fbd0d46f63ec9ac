"""The REST API's tests: an HTTP client per key, client B on a plan with `api_access`, and a small world of rows in
client A's schema (an agent, a conversation and its messages, a lead, a ticket, a callback, an appointment, a
document)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.bookings.services import appointment_book, slots_available
from apps.calls.models import Call, PhoneSettings
from apps.clients.models import Client, Plan
from apps.conversations.models import Message
from apps.conversations.services import conversation_start, message_add
from apps.crm.services import callback_schedule, lead_qualify, ticket_create
from apps.events.models import WebhookEndpoint
from apps.events.services import event_record
from apps.events.signing import secret_new
from apps.knowledge.services import document_create
from apps.outbound.models import DoNotCall, OutboundCall
from apps.telephony.models import PhoneNumber
from tests.agents.conftest import make_agent


class Api:
    """`Authorization: Bearer <key>` on every request; JSON bodies by default."""

    def __init__(self, key: str | None) -> None:
        self.http = HttpClient()
        self.key = key

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        return {**headers, **extra}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.http.get("/api/v1/" + path, params or {}, **self._headers(headers))

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None, content_type: str = "application/json",
             **headers: str) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.http.post("/api/v1/" + path, data, content_type=content_type, **self._headers(headers))

    def patch(self, path: str, body: Any = None, *, raw: bytes | None = None, **headers: str) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.http.patch("/api/v1/" + path, data, content_type="application/json", **self._headers(headers))

    def delete(self, path: str, **headers: str) -> Any:
        return self.http.delete("/api/v1/" + path, **self._headers(headers))


@pytest.fixture
def api_a(cast: Any) -> Api:
    return Api(cast.sk_a)


@pytest.fixture
def api_b(cast: Any) -> Api:
    """Client B's key, B moved to the pro plan (api_access) so that its requests reach the ownership checks."""
    Client.objects.filter(pk=cast.client_b.pk).update(plan=Plan.objects.get(code="pro"))
    return Api(cast.sk_b)


@dataclass
class World:
    agent: Any
    conversation: Any
    messages: list[Any]
    lead: Any
    ticket: Any
    callback: Any
    appointment: Any
    document: Any
    slots: list[Any]
    endpoint: Any = None
    event: Any = None
    delivery: Any = None
    call: Any = None
    dnc: Any = None
    phone_call: Any = None
    number: Any = None


def world_number(client: Any) -> str:
    """A twin number per client (apps.integrations.telephony.memory's test range): its recording is a silent WAV."""
    return f"+155501007{client.pk % 100:02d}"


def make_world(client: Any) -> World:
    agent = make_agent(client)
    with tenant_context(client):
        conversation = conversation_start(agent=agent, channel="widget_text", language="fr", visitor_id="v1")
        messages = [message_add(conversation=conversation, role=Message.Role.USER, text="Bonjour"),
                    message_add(conversation=conversation, role=Message.Role.ASSISTANT, text="Bonjour !")]
        lead = lead_qualify(conversation=conversation, name="Marie", email="marie@example.com", need="Un devis")
        ticket = ticket_create(subject="Facture", description="Introuvable", conversation=conversation)
        callback = callback_schedule(phone="+33612345678", due_at=timezone.now() + timedelta(days=1), name="Karim")
        slots = slots_available(agent=agent, limit=6, days=14)
        appointment = appointment_book(agent=agent, start=slots[0], customer_name="Marie Dupont")
        document = document_create(title="Tarifs", kind="text", language="fr", text="Détartrage : 60 €.",
                                   ingest=False)
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/vocalia", event_types=["lead.created"],
                                                  secret_encrypted=secret_new())
        event = event_record(type="webhook.test", endpoint=endpoint,
                             data={"message": "This is a test event from Vocalia.", "endpoint_id": endpoint.pk})
        delivery = event.deliveries.get()
        call = OutboundCall.objects.create(purpose=OutboundCall.Purpose.MANUAL, to="+33612345678", name="Marie",
                                           reason="Confirmer le devis", language="fr",
                                           next_attempt_at=timezone.now() + timedelta(hours=1))
        dnc = DoNotCall.objects.create(phone="+33698765432", reason="Asked not to be called")
        PhoneSettings.objects.create(agent=agent, mode="media")
        phone_conversation = conversation_start(agent=agent, channel="phone", language="fr", visitor_id="+33611111111")
        message_add(conversation=phone_conversation, role=Message.Role.ASSISTANT, text="Cabinet Alpha, bonjour.")
        message_add(conversation=phone_conversation, role=Message.Role.USER, text="Un rendez-vous, svp.")
        phone_call = Call.objects.create(
            call_sid="CA" + "a" * 32, agent=agent, conversation=phone_conversation, from_number="+33611111111",
            to_number=world_number(client), mode="media", status="completed", duration_s=75, languages=["fr"],
            recording_sid="RE" + "b" * 32, recording_status="completed", recording_duration_s=70,
            outcome="booked", summary="Rendez-vous pris.",
            timeline=[{"event": "answered", "at": "2026-12-01T18:00:00+00:00", "detail": "media"},
                      {"event": "call.ended", "at": "2026-12-01T18:01:15+00:00", "detail": ""},
                      {"event": "completed", "at": "2026-12-01T18:01:15+00:00", "detail": "75"}],
            turns=[{"recognition_ms": 120, "engine_ms": 12, "speech_ms": 80}])
    number = PhoneNumber.objects.create(e164=world_number(client), client=client, agent_id=agent.pk,
                                        friendly_name="Accueil")
    return World(agent=agent, conversation=conversation, messages=messages, lead=lead, ticket=ticket,
                 callback=callback, appointment=appointment, document=document, slots=slots[1:], endpoint=endpoint,
                 event=event, delivery=delivery, call=call, dnc=dnc, phone_call=phone_call, number=number)


def outbound_allow(code: str = "pro") -> None:
    """The plan gets `outbound_calls` (no catalogue plan below telephony has it)."""
    plan = Plan.objects.get(code=code)
    plan.features = sorted({*plan.features, "outbound_calls"})
    plan.save()


@pytest.fixture
def world(cast: Any) -> World:
    return make_world(cast.client_a)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape: {"error": {"type", "code", "message", "param"}}."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert {"type", "code", "message", "param"} <= set(error), error
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
