"""Every endpoint, asked by client B's key for client A's object: 404, and A's object unchanged.

The table below must name every route of the REST API (checked against the URLconf), so a resource added
without its ownership case fails here."""

from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.urls import URLPattern, get_resolver
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.bookings.models import Appointment
from apps.calls.models import Call
from apps.conversations.models import Conversation
from apps.crm.models import Callback, Lead, Ticket
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint
from apps.knowledge.models import Document
from apps.outbound.models import DoNotCall, OutboundCall
from apps.telephony.models import PhoneNumber
from tests.api.conftest import assert_error, outbound_allow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbound(cast):
    outbound_allow("pro")  # both keys reach the outbound routes' ownership checks

# route name → (method, path with {id}, body, which object of the world, its model)
BY_ID: dict[str, tuple[str, str, Any, str, Any]] = {
    "api-agent": ("GET", "agents/{id}", None, "agent", Agent),
    "api-agent-patch": ("PATCH", "agents/{id}", {"name": "Stolen", "status": "paused"}, "agent", Agent),
    "api-document": ("GET", "knowledge/documents/{id}", None, "document", Document),
    "api-document-delete": ("DELETE", "knowledge/documents/{id}", None, "document", Document),
    "api-conversation": ("GET", "conversations/{id}", None, "conversation", Conversation),
    "api-messages": ("GET", "conversations/{id}/messages", None, "conversation", Conversation),
    "api-lead": ("GET", "leads/{id}", None, "lead", Lead),
    "api-appointment": ("GET", "appointments/{id}", None, "appointment", Appointment),
    "api-appointment-move": ("POST", "appointments/{id}/move", "SLOT", "appointment", Appointment),
    "api-appointment-cancel": ("POST", "appointments/{id}/cancel", {}, "appointment", Appointment),
    "api-ticket": ("GET", "tickets/{id}", None, "ticket", Ticket),
    "api-callback": ("GET", "callbacks/{id}", None, "callback", Callback),
    "api-webhook-endpoint": ("GET", "webhooks/endpoints/{id}", None, "endpoint", WebhookEndpoint),
    "api-webhook-endpoint-patch": ("PATCH", "webhooks/endpoints/{id}", {"url": "https://evil.example.com/x",
                                                                         "enabled": False}, "endpoint",
                                   WebhookEndpoint),
    "api-webhook-endpoint-delete": ("DELETE", "webhooks/endpoints/{id}", None, "endpoint", WebhookEndpoint),
    "api-webhook-endpoint-rotate": ("POST", "webhooks/endpoints/{id}/rotate-secret", {}, "endpoint",
                                    WebhookEndpoint),
    "api-webhook-deliveries": ("GET", "webhooks/endpoints/{id}/deliveries", None, "endpoint", WebhookEndpoint),
    "api-webhook-delivery": ("GET", "webhooks/deliveries/{id}", None, "delivery", WebhookDelivery),
    "api-webhook-delivery-replay": ("POST", "webhooks/deliveries/{id}/replay", {}, "delivery", WebhookDelivery),
    "api-event": ("GET", "events/{public_id}", None, "event", Event),
    "api-outbound-call": ("GET", "outbound/calls/{id}", None, "call", OutboundCall),
    "api-outbound-call-cancel": ("POST", "outbound/calls/{id}/cancel", {}, "call", OutboundCall),
    "api-dnc-delete": ("DELETE", "outbound/do-not-call/{id}", None, "dnc", DoNotCall),
    "api-call": ("GET", "calls/{id}", None, "phone_call", Call),
    "api-call-recording": ("GET", "calls/{id}/recording", None, "phone_call", Call),
    "api-phone-number": ("GET", "phone-numbers/{id}", None, "number", PhoneNumber),
}
# list routes: B's list never shows A's rows; A's create routes refer to A's objects by id
LISTS = {"api-agents": "agents", "api-documents": "knowledge/documents", "api-conversations": "conversations",
         "api-leads": "leads", "api-appointments": "appointments", "api-tickets": "tickets",
         "api-callbacks": "callbacks", "api-webhook-endpoints": "webhooks/endpoints", "api-events": "events",
         "api-outbound-calls": "outbound/calls", "api-dnc-list": "outbound/do-not-call", "api-calls": "calls",
         "api-phone-numbers": "phone-numbers"}
# no object id: tests/api/test_resources.py
CLIENT_WIDE = {"api-me", "api-usage", "api-schema", "api-docs", "api-event-types"}


def _api_route_names() -> set[str]:
    resolver = get_resolver("apps.api.urls")
    return {pattern.name for pattern in resolver.url_patterns if isinstance(pattern, URLPattern)}


def test_the_table_covers_every_route():
    covered = {name.removesuffix("-patch").removesuffix("-delete") for name in BY_ID} | set(LISTS) | CLIENT_WIDE
    assert covered == _api_route_names()


SHARED_MODELS = (PhoneNumber,)  # public schema: one table for every client, ids are unique across clients


def _absent_in(client: Any, model: Any, pk: int) -> None:
    """Make sure client B's schema has no row with A's id (ids are per schema), so a 404 is the only right answer."""
    if model in SHARED_MODELS:
        return
    with tenant_context(client):
        model.objects.filter(pk=pk).delete()


@pytest.mark.parametrize("name", sorted(BY_ID))
def test_it_answers_404_to_another_clients_key_and_changes_nothing(cast, api_b, world, name):
    method, template, body, which, model = BY_ID[name]
    row = getattr(world, which)
    _absent_in(cast.client_b, model, row.pk)
    if body == "SLOT":
        body = {"start": world.slots[0].isoformat()}
    with tenant_context(cast.client_a):
        before = model_to_dict(model.objects.get(pk=row.pk))
        counts = {kind: kind.objects.count() for kind in (Appointment, Document, Agent, WebhookEndpoint,
                                                          WebhookDelivery, Event, OutboundCall, DoNotCall, Call,
                                                          PhoneNumber)}
    path = template.format(id=row.pk, public_id=getattr(row, "public_id", ""))
    response = {"GET": lambda: api_b.get(path), "DELETE": lambda: api_b.delete(path),
                "PATCH": lambda: api_b.patch(path, body), "POST": lambda: api_b.post(path, body)}[method]()
    assert_error(response, 404, "not_found")
    with tenant_context(cast.client_a):
        assert model_to_dict(model.objects.get(pk=row.pk)) == before
        assert {kind: kind.objects.count() for kind in counts} == counts


@pytest.mark.parametrize("name", sorted(LISTS))
def test_another_clients_list_never_shows_its_rows(cast, api_a, api_b, world, name):
    assert api_a.get(LISTS[name]).json()["data"] != []
    assert api_b.get(LISTS[name]).json()["data"] == []


def test_it_books_only_with_the_keys_own_agents(cast, api_b, world):
    _absent_in(cast.client_b, Agent, world.agent.pk)
    response = api_b.post("appointments", {"agent": world.agent.pk, "start": world.slots[0].isoformat(),
                                           "customer_name": "Mallory"})
    assert_error(response, 404, "not_found")
    with tenant_context(cast.client_a):
        assert not Appointment.objects.filter(customer_name="Mallory").exists()


def test_it_attaches_documents_only_to_the_keys_own_agents(cast, api_b, world):
    _absent_in(cast.client_b, Agent, world.agent.pk)
    response = api_b.post("knowledge/documents", {"kind": "text", "language": "fr", "text": "x",
                                                  "agents": [world.agent.pk]})
    assert assert_error(response, 400)["param"] == "agents"
    with tenant_context(cast.client_b):
        assert Document.objects.count() == 0


def test_a_key_never_reads_another_clients_usage_or_account(cast, api_a, api_b, world):
    assert api_b.get("me").json()["slug"] == "bravo"
    from apps.usage.selectors import usage_this_month

    before_b = usage_this_month(client=cast.client_b, metric="conversations")
    used = {}
    for api, label in ((api_a, "a"), (api_b, "b")):
        quotas = api.get("usage").json()["quotas"]
        used[label] = {row["quota"]: row["used"] for row in quotas}["monthly_conversations"]
    assert used["a"] == usage_this_month(client=cast.client_a, metric="conversations") >= 1
    assert used["b"] == before_b  # A's world counted nothing in B's schema


def test_a_call_row_naming_another_clients_number_never_plays_its_recording(cast, api_b, world):
    """B's schema holds a call whose number is A's (a forged or stale row): the audio is fetched only with the
    account of a number that routes to the key's own client, so B gets 404 and no audio."""
    with tenant_context(cast.client_b):
        stray = Call.objects.create(call_sid="CA" + "f" * 32, to_number=world.number.e164, status="completed",
                                    recording_sid="RE" + "f" * 32, recording_status="completed")
    response = api_b.get(f"calls/{stray.pk}/recording")
    assert_error(response, 404, "not_found")
    assert b"RIFF" not in response.content


def test_another_clients_phone_number_is_not_listed_nor_read(cast, api_b, world):
    assert all(row["number"] != world.number.e164 for row in api_b.get("phone-numbers").json()["data"])
    assert_error(api_b.get(f"phone-numbers/{world.number.pk}"), 404, "not_found")
    assert PhoneNumber.objects.get(pk=world.number.pk).client_id == cast.client_a.pk
