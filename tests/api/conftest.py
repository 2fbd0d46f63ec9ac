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
from apps.clients.models import Client, Plan
from apps.conversations.models import Message
from apps.conversations.services import conversation_start, message_add
from apps.crm.services import callback_schedule, lead_qualify, ticket_create
from apps.events.models import WebhookEndpoint
from apps.events.services import event_record
from apps.events.signing import secret_new
from apps.knowledge.services import document_create
from apps.outbound.models import DoNotCall, OutboundCall
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
    return World(agent=agent, conversation=conversation, messages=messages, lead=lead, ticket=ticket,
                 callback=callback, appointment=appointment, document=document, slots=slots[1:], endpoint=endpoint,
                 event=event, delivery=delivery, call=call, dnc=dnc)


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
