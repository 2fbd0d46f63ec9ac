"""Bad input on every endpoint that takes a body or a query: a 4xx in the one error shape, never a 500, and nothing
stored. NUL bytes, lone surrogates, deep JSON, huge numbers, absurd dates, wrong types, forged lengths."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.bookings.models import Appointment
from apps.events.models import WebhookEndpoint
from apps.knowledge.models import Document
from apps.outbound.models import DoNotCall, OutboundCall
from tests.api.conftest import assert_error, outbound_allow

pytestmark = pytest.mark.django_db

BAD_BODIES = {
    "surrogate": None,  # built per endpoint: a lone surrogate in its main text field
    "deep": b'{"a":' * 2000 + b"1" + b"}" * 2000,
    "deep_list": b"[" * 5000 + b"]" * 5000,
    "huge_int": b'{"agent": ' + b"9" * 5000 + b"}",
    "huge_float": b'{"temperature": 1e999}',
    "nan": b'{"temperature": NaN}',
    "not_object": b'["agent"]',
    "invalid_utf8": b'{"customer_name": "\xff\xfe"}',
    "truncated": b'{"customer_name": "Pa',
}


def _writes(world):
    return [
        ("POST", "appointments", "customer_name",
         {"agent": world.agent.pk, "start": world.slots[0].isoformat(), "customer_name": "Paul"}),
        ("POST", f"appointments/{world.appointment.pk}/move", "start", {"start": world.slots[0].isoformat()}),
        ("POST", "knowledge/documents", "text", {"kind": "text", "language": "fr", "text": "Bonjour"}),
        ("PATCH", f"agents/{world.agent.pk}", "name", {"name": "Accueil"}),
        ("POST", "webhooks/endpoints", "url", {"url": "https://hooks.example.com/b", "event_types": ["lead.created"]}),
        ("PATCH", f"webhooks/endpoints/{world.endpoint.pk}", "url", {"url": "https://hooks.example.com/c"}),
        ("POST", "outbound/calls", "reason", {"to": "+33611111111", "reason": "Devis", "consent_source": "form"}),
        ("POST", "outbound/do-not-call", "phone", {"phone": "+33622222222"}),
    ]


@pytest.fixture(autouse=True)
def _outbound(cast):
    outbound_allow("pro")  # the outbound writes reach their parsing, not the plan's 403


def _snapshot(cast, world):
    with tenant_context(cast.client_a):
        return (Appointment.objects.count(), Document.objects.count(),
                Agent.objects.filter(pk=world.agent.pk).values_list("name", flat=True).get(),
                Appointment.objects.get(pk=world.appointment.pk).status,
                list(WebhookEndpoint.objects.values_list("id", "url", "enabled")),
                OutboundCall.objects.count(), DoNotCall.objects.count())


def _send(api, method, path, raw):
    if method == "PATCH":
        return api.patch(path, raw=raw)
    return api.post(path, raw=raw)


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
def test_it_refuses_bad_bodies_on_every_write(cast, api_a, world, kind):
    before = _snapshot(cast, world)
    for method, path, field, valid in _writes(world):
        if kind == "surrogate":
            raw = json.dumps({**valid, field: "x\ud800y"}).encode()  # sent as the escape \\ud800
        else:
            raw = BAD_BODIES[kind]
        response = _send(api_a, method, path, raw)
        assert 400 <= response.status_code < 500, (kind, path, response.content)
        assert_error(response, response.status_code)
    assert _snapshot(cast, world) == before


def test_it_strips_nul_bytes_before_storing(cast, api_a, world):
    """A NUL byte (PostgreSQL refuses it in text) is dropped by the JSON parser, as on every JSON surface."""
    booked = api_a.post("appointments", {"agent": world.agent.pk, "start": world.slots[0].isoformat(),
                                         "customer_name": "Pa\x00ul", "notes": "\x00"})
    assert booked.status_code == 201, booked.content
    document = api_a.post("knowledge/documents", {"kind": "text", "language": "fr", "text": "Bon\x00jour",
                                                  "title": "\x00T"})
    assert document.status_code == 201, document.content
    renamed = api_a.patch(f"agents/{world.agent.pk}", {"name": "Acc\x00ueil"})
    assert renamed.status_code == 200, renamed.content
    with tenant_context(cast.client_a):
        appointment = Appointment.objects.get(pk=booked.json()["id"])
        assert (appointment.customer_name, appointment.notes) == ("Paul", "")
        assert Document.objects.get(pk=document.json()["id"]).raw_text == "Bonjour"
        assert Agent.objects.get(pk=world.agent.pk).name == "Accueil"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-12:00", "2026-02-30T10:00:00Z",
                                   "+275760-09-13T00:00:00Z", "2026-12-03T25:61:00Z", "1e999", "", "x" * 100])
def test_it_refuses_absurd_booking_dates(cast, api_a, world, value):
    before = _snapshot(cast, world)
    for path, body in (("appointments", {"agent": world.agent.pk, "start": value, "customer_name": "P"}),
                       (f"appointments/{world.appointment.pk}/move", {"start": value})):
        assert assert_error(api_a.post(path, body), 400)["param"] == "start"
    assert _snapshot(cast, world) == before


@pytest.mark.parametrize("body", [{"agent": 2**64}, {"agent": -1}, {"agent": "1; DROP TABLE"}, {"agent": [1]},
                                  {"agent": True}, {"agent": 1.5}])
def test_it_refuses_ids_that_are_not_ids(cast, api_a, world, body):
    response = api_a.post("appointments", {"start": world.slots[0].isoformat(), "customer_name": "P", **body})
    assert assert_error(response, 400)["param"] == "agent"


@pytest.mark.parametrize("path", ["agents", "knowledge/documents", "conversations", "leads", "appointments",
                                  "tickets", "callbacks", "webhooks/endpoints", "events", "outbound/calls",
                                  "outbound/do-not-call", "calls", "phone-numbers"])
@pytest.mark.parametrize("query", ["created_after=%00", "created_before=%ED%A0%80", "limit=%00", "cursor=%ff%fe",
                                   "status=%00", "agent=99999999999999999999", "limit=1e3",
                                   "created_after=-infinity", "created_after=2026-01-01T00:00:00%2B99:00"])
def test_it_refuses_bad_queries_on_every_list(cast, api_a, path, query):
    response = api_a.http.get(f"/api/v1/{path}?{query}", HTTP_AUTHORIZATION=f"Bearer {cast.sk_a}")
    assert response.status_code in (200, 400), (path, query, response.content)  # an unknown parameter is ignored
    if response.status_code == 400:
        assert_error(response, 400)


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999999999999"])
def test_it_refuses_a_forged_content_length(cast, api_a, world, length):
    response = api_a.post("appointments", {"agent": world.agent.pk}, CONTENT_LENGTH=length)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


@pytest.mark.parametrize("path", ["leads/99999999999999999999", "agents/0", "tickets/-1", "callbacks/1.5",
                                  "conversations/%00/messages", "webhooks/endpoints/99999999999999999999",
                                  "webhooks/deliveries/0", "events/%00", "events/" + "x" * 200,
                                  "outbound/calls/99999999999999999999", "calls/99999999999999999999",
                                  "calls/0/recording", "calls/%00", "phone-numbers/99999999999999999999",
                                  "phone-numbers/-1"])
def test_it_answers_404_to_ids_it_cannot_hold(cast, api_a, path):
    assert_error(api_a.get(path), 404, "not_found")
