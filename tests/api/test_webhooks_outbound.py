"""The webhook and outbound-call resources: what each endpoint does, the plan gating, idempotent POSTs."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.clients.models import Plan
from apps.events.catalogue import TYPES
from apps.events.models import WebhookDelivery, WebhookEndpoint
from apps.outbound.models import CallConsent, DoNotCall, OutboundCall
from apps.telephony.models import PhoneNumber
from tests.api.conftest import assert_error, outbound_allow

pytestmark = pytest.mark.django_db
URL = "https://hooks.example.com/crm"


def _without(feature: str) -> None:
    plan = Plan.objects.get(code="pro")
    plan.features = [name for name in plan.features if name != feature]
    plan.save()


# -- webhook endpoints -------------------------------------------------------------------------------------------

def test_it_creates_an_endpoint_and_shows_its_secret_once(cast, api_a, world):
    created = api_a.post("webhooks/endpoints", {"url": URL, "event_types": ["lead.created", "appointment.booked"],
                                                "description": "CRM"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["object"] == "webhook_endpoint"
    assert body["event_types"] == ["appointment.booked", "lead.created"] and body["enabled"] is True
    with tenant_context(cast.client_a):
        assert WebhookEndpoint.objects.get(pk=body["id"]).secret_encrypted == body["secret"]
    assert "secret" not in api_a.get(f"webhooks/endpoints/{body['id']}").json()
    listed = api_a.get("webhooks/endpoints").json()["data"]
    assert body["id"] in [row["id"] for row in listed] and all("secret" not in row for row in listed)


@pytest.mark.parametrize("body, param", [
    ({"url": "http://127.0.0.1/x"}, None), ({"url": "https://localhost/x"}, None), ({"url": "ftp://a.example/x"}, None),
    ({"url": "https://a.example/ x"}, None), ({"url": "https://a.example/\ud800"}, None),
    ({"url": URL, "event_types": ["no.such"]}, "event_types"), ({"url": URL, "event_types": "lead.created"},
                                                                "event_types"),
    ({"url": URL, "rate_per_second": 10**30}, None), ({"url": URL, "rate_per_second": 0},
                                                                   "rate_per_second"),
    ({"url": "https://a.example/" + "x" * 2000}, "url"), ({}, "url"), ({"url": ["https://a.example"]}, "url"),
])
def test_it_refuses_bad_endpoints_and_stores_nothing(cast, api_a, world, body, param):
    with tenant_context(cast.client_a):
        before = WebhookEndpoint.objects.count()
    error = assert_error(api_a.post("webhooks/endpoints", body), 400)
    if param:
        assert error["param"] == param, error
    with tenant_context(cast.client_a):
        assert WebhookEndpoint.objects.count() == before


def test_it_drops_nul_bytes_as_every_json_surface_does(cast, api_a, world):
    created = api_a.post("webhooks/endpoints", {"url": "https://a.example/\x00x", "description": "C\x00RM"})
    assert created.status_code == 201, created.content
    assert (created.json()["url"], created.json()["description"]) == ("https://a.example/x", "CRM")


def test_it_replays_an_endpoint_creation_for_the_same_idempotency_key(cast, api_a, world):
    first = api_a.post("webhooks/endpoints", {"url": URL}, HTTP_IDEMPOTENCY_KEY="wh-1")
    again = api_a.post("webhooks/endpoints", {"url": URL}, HTTP_IDEMPOTENCY_KEY="wh-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with tenant_context(cast.client_a):
        assert WebhookEndpoint.objects.filter(url=URL).count() == 1


def test_it_updates_only_the_fields_sent_and_disables_by_user(cast, api_a, world):
    path = f"webhooks/endpoints/{world.endpoint.pk}"
    response = api_a.patch(path, {"enabled": False, "event_types": []})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["url"], body["enabled"], body["disabled_reason"], body["event_types"]) == (
        world.endpoint.url, False, "user", [])
    again = api_a.patch(path, {"url": URL, "enabled": True}).json()
    assert (again["url"], again["enabled"], again["disabled_reason"]) == (URL, True, "")
    assert_error(api_a.patch(path, {"url": "http://10.0.0.1/"}), 400)
    with tenant_context(cast.client_a):
        assert WebhookEndpoint.objects.get(pk=world.endpoint.pk).url == URL


def test_it_rotates_the_secret_and_keeps_the_previous_one_for_a_while(cast, api_a, world):
    with tenant_context(cast.client_a):
        old = WebhookEndpoint.objects.get(pk=world.endpoint.pk).secret_encrypted
    response = api_a.post(f"webhooks/endpoints/{world.endpoint.pk}/rotate-secret")
    assert response.status_code == 200, response.content
    secret = response.json()["secret"]
    assert secret.startswith("whsec_") and secret != old
    with tenant_context(cast.client_a):
        assert WebhookEndpoint.objects.get(pk=world.endpoint.pk).secrets_in_force() == [secret, old]


def test_it_deletes_an_endpoint_and_its_deliveries(cast, api_a, world):
    assert api_a.delete(f"webhooks/endpoints/{world.endpoint.pk}").status_code == 204
    assert_error(api_a.get(f"webhooks/endpoints/{world.endpoint.pk}"), 404, "not_found")
    assert_error(api_a.delete(f"webhooks/endpoints/{world.endpoint.pk}"), 404, "not_found")
    with tenant_context(cast.client_a):
        assert not WebhookDelivery.objects.filter(pk=world.delivery.pk).exists()


def test_a_plan_without_webhooks_refuses_writes_but_still_lists(cast, api_a, world):
    _without("webhooks")
    assert_error(api_a.post("webhooks/endpoints", {"url": URL}), 403, "feature_not_in_plan")
    assert_error(api_a.patch(f"webhooks/endpoints/{world.endpoint.pk}", {"url": URL}), 403, "feature_not_in_plan")
    assert_error(api_a.post(f"webhooks/deliveries/{world.delivery.pk}/replay"), 403, "feature_not_in_plan")
    assert api_a.get("webhooks/endpoints").status_code == 200
    assert_error(api_a.patch(f"webhooks/endpoints/{world.endpoint.pk}", {"enabled": True}), 403, "feature_not_in_plan")
    stopped = api_a.patch(f"webhooks/endpoints/{world.endpoint.pk}", {"enabled": False})
    assert (stopped.status_code, stopped.json()["disabled_reason"]) == (200, "user")
    with tenant_context(cast.client_a):
        assert not WebhookEndpoint.objects.filter(url=URL).exists()


# -- deliveries, events, catalogue --------------------------------------------------------------------------------

def test_it_lists_an_endpoints_deliveries_and_shows_one_with_its_attempts(cast, api_a, world):
    listed = api_a.get(f"webhooks/endpoints/{world.endpoint.pk}/deliveries").json()
    assert [row["id"] for row in listed["data"]] == [world.delivery.pk]
    assert listed["data"][0]["event"] == world.event.public_id
    assert api_a.get(f"webhooks/endpoints/{world.endpoint.pk}/deliveries", {"status": "failed"}).json()["data"] == []
    with tenant_context(cast.client_a):
        world.delivery.attempt_log.create(number=1, request_url=URL, request_body="{}", response_status=500,
                                          response_excerpt="boom")
    one = api_a.get(f"webhooks/deliveries/{world.delivery.pk}").json()
    assert [(row["number"], row["response_status"]) for row in one["attempt_log"]] == [(1, 500)]
    assert "request_headers" not in one["attempt_log"][0]  # the signature headers stay in the dashboard


def test_it_replays_a_failed_delivery(cast, api_a, world):
    with tenant_context(cast.client_a):
        WebhookDelivery.objects.filter(pk=world.delivery.pk).update(status=WebhookDelivery.Status.FAILED,
                                                                    retry_step=5)
    response = api_a.post(f"webhooks/deliveries/{world.delivery.pk}/replay", HTTP_IDEMPOTENCY_KEY="replay-1")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    with tenant_context(cast.client_a):
        assert WebhookDelivery.objects.get(pk=world.delivery.pk).retry_step == 0
        WebhookDelivery.objects.filter(pk=world.delivery.pk).update(status=WebhookDelivery.Status.FAILED)
    again = api_a.post(f"webhooks/deliveries/{world.delivery.pk}/replay", HTTP_IDEMPOTENCY_KEY="replay-1")
    assert again["Idempotent-Replayed"] == "true"
    with tenant_context(cast.client_a):  # the replayed answer did not send it again
        assert WebhookDelivery.objects.get(pk=world.delivery.pk).status == WebhookDelivery.Status.FAILED


def test_it_lists_and_gets_events(cast, api_a, world):
    listed = api_a.get("events", {"type": "webhook.test"}).json()["data"]
    assert [row["id"] for row in listed] == [world.event.public_id]
    assert {row["type"] for row in api_a.get("events", {"limit": 100}).json()["data"]} >= {"lead.created",
                                                                                          "webhook.test"}
    one = api_a.get(f"events/{world.event.public_id}").json()
    assert (one["type"], one["data"]["endpoint_id"]) == ("webhook.test", world.endpoint.pk)
    assert_error(api_a.get("events/msg_nope"), 404, "not_found")
    assert_error(api_a.get("events", {"type": "no.such"}), 400)


def test_it_serves_the_event_type_catalogue(cast, api_a):
    data = api_a.get("event-types").json()["data"]
    assert {row["type"] for row in data} == set(TYPES)
    booked = next(row for row in data if row["type"] == "appointment.booked")
    assert booked["schema"] == TYPES["appointment.booked"].schema and booked["description"]


# -- outbound calls -----------------------------------------------------------------------------------------------

PERSON = "+33633333333"


def _callable(cast) -> None:
    outbound_allow("pro")
    PhoneNumber.objects.get_or_create(e164="+15550100077", defaults={"client": cast.client_a})


def test_it_requests_a_call_with_the_dashboards_rules(cast, api_a, world):
    _callable(cast)
    body = {"to": PERSON, "reason": "Confirmer le devis", "name": "Marie", "language": "fr"}
    refused = assert_error(api_a.post("outbound/calls", body), 400)
    assert "consent" in refused["message"].lower()
    created = api_a.post("outbound/calls", {**body, "consent_source": "Formulaire du 1er décembre"},
                         HTTP_IDEMPOTENCY_KEY="call-1")
    assert created.status_code == 201, created.content
    call = created.json()
    assert (call["to"], call["status"], call["purpose"], call["language"]) == (PERSON, "scheduled", "manual", "fr")
    again = api_a.post("outbound/calls", {**body, "consent_source": "Formulaire du 1er décembre"},
                       HTTP_IDEMPOTENCY_KEY="call-1")
    assert again.json() == call and again["Idempotent-Replayed"] == "true"
    with tenant_context(cast.client_a):
        assert OutboundCall.objects.filter(to=PERSON).count() == 1
        assert CallConsent.objects.filter(phone=PERSON, withdrawn_at=None).exists()
    assert api_a.get(f"outbound/calls/{call['id']}").json()["id"] == call["id"]
    assert call["id"] in [row["id"] for row in api_a.get("outbound/calls", {"status": "scheduled"}).json()["data"]]


@pytest.mark.parametrize("body, param", [
    ({"to": "0612", "reason": "x", "consent_source": "f"}, None), ({"to": "+33\x00612", "reason": "x"}, None),
    ({"to": PERSON, "reason": "", "consent_source": "f"}, "reason"), ({"to": PERSON, "reason": "\ud800"}, None),
    ({"to": PERSON, "reason": "x", "language": "de"}, "language"), ({"to": 10**40, "reason": "x"}, None),
    ({"reason": "x"}, "to"), ({"to": PERSON, "reason": "x" * 5000}, "reason"),
])
def test_it_refuses_bad_call_requests(cast, api_a, world, body, param):
    _callable(cast)
    error = assert_error(api_a.post("outbound/calls", body), 400)
    if param:
        assert error["param"] == param, error
    with tenant_context(cast.client_a):
        assert not OutboundCall.objects.exclude(pk=world.call.pk).exists()


def test_it_cancels_a_waiting_call_once(cast, api_a, world):
    outbound_allow("pro")
    response = api_a.post(f"outbound/calls/{world.call.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert_error(api_a.post(f"outbound/calls/{world.call.pk}/cancel"), 400)


def test_a_plan_without_outbound_calls_refuses_every_route(cast, api_a, world):
    for response in (api_a.get("outbound/calls"), api_a.get(f"outbound/calls/{world.call.pk}"),
                     api_a.post("outbound/calls", {"to": PERSON, "reason": "x", "consent_source": "f"}),
                     api_a.post(f"outbound/calls/{world.call.pk}/cancel"), api_a.get("outbound/do-not-call"),
                     api_a.post("outbound/do-not-call", {"phone": PERSON}),
                     api_a.delete(f"outbound/do-not-call/{world.dnc.pk}")):
        assert_error(response, 403, "feature_not_in_plan")
    with tenant_context(cast.client_a):
        assert OutboundCall.objects.get(pk=world.call.pk).status == OutboundCall.Status.SCHEDULED
        assert DoNotCall.objects.filter(pk=world.dnc.pk).exists() and not DoNotCall.objects.filter(phone=PERSON)


def test_the_do_not_call_list_blocks_waiting_calls_and_can_be_edited(cast, api_a, world):
    outbound_allow("pro")
    added = api_a.post("outbound/do-not-call", {"phone": world.call.to, "reason": "Asked"},
                       HTTP_IDEMPOTENCY_KEY="dnc-1")
    assert added.status_code == 201, added.content
    assert (added.json()["phone"], added.json()["source"]) == (world.call.to, "api")
    assert api_a.post("outbound/do-not-call", {"phone": world.call.to, "reason": "Asked"},
                      HTTP_IDEMPOTENCY_KEY="dnc-1").json() == added.json()
    with tenant_context(cast.client_a):
        assert OutboundCall.objects.get(pk=world.call.pk).status == OutboundCall.Status.BLOCKED
    assert {row["phone"] for row in api_a.get("outbound/do-not-call").json()["data"]} >= {world.call.to}
    assert_error(api_a.post("outbound/do-not-call", {"phone": "nope"}), 400)
    assert api_a.delete(f"outbound/do-not-call/{added.json()['id']}").status_code == 204
    assert_error(api_a.delete(f"outbound/do-not-call/{added.json()['id']}"), 404, "not_found")
    with tenant_context(cast.client_a):
        assert not DoNotCall.objects.filter(phone=world.call.to).exists()
