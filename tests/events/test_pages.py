"""The Developers page: keys (moved here), endpoints (add, edit, rotate, disable, test), the delivery log,
replay and recovery — owners and admins only, another client's ids 404, bad input a clear 4xx."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.events.models import Event, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def add(alice, receiver, **extra):
    response = alice.post("/developers/endpoints/new/", {"url": receiver.url, "description": "CRM", **extra})
    assert response.status_code == 200, response.content[:500]
    return response


def test_it_shows_keys_endpoints_and_the_catalogue(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    page = alice.get("/developers/").content.decode()
    for text in ("API keys", "Webhook endpoints", "Add an endpoint", "Event catalogue", "appointment.booked",
                 "New secret key"):
        assert text in page
    assert 'href="/developers/"' in alice.get("/").content.decode()  # the navigation and the home page's link


def test_it_adds_an_endpoint_and_shows_its_secret_once(cast, as_user, receiver, django_capture_on_commit_callbacks):
    alice = as_user(cast.alice, cast.client_a)
    response = add(alice, receiver, event_types=["ticket.created", "lead.created"], rate_per_second="10")
    secret = re.search(r'id="revealed-secret">(whsec_[A-Za-z0-9+/=]+)<', response.content.decode()).group(1)
    with tenant_context(cast.client_a):
        endpoint = WebhookEndpoint.objects.get()
        assert (endpoint.event_types, endpoint.rate_per_second) == (["lead.created", "ticket.created"], 10)
        assert endpoint.secret_encrypted == secret
    page = alice.get(f"/developers/endpoints/{endpoint.pk}/").content.decode()
    assert secret not in page and receiver.url in page
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.post(f"/developers/endpoints/{endpoint.pk}/test/").status_code == 302
    with tenant_context(cast.client_a):
        delivery = WebhookDelivery.objects.get()
    assert delivery.status == "succeeded" and len(receiver.requests) == 1
    log = alice.get(f"/developers/endpoints/{endpoint.pk}/").content.decode()
    assert "webhook.test" in log and delivery.event.public_id in log
    detail = alice.get(f"/developers/deliveries/{delivery.pk}/").content.decode()
    assert "webhook-signature" in detail and "Attempt 1" in detail and "ok" in detail
    assert secret not in detail  # the log shows signatures, never the secret


def test_it_edits_rotates_disables_replays_and_recovers(cast, as_user, receiver,
                                                        django_capture_on_commit_callbacks):
    alice = as_user(cast.alice, cast.client_a)
    add(alice, receiver)
    with tenant_context(cast.client_a):
        endpoint = WebhookEndpoint.objects.get()
    base = f"/developers/endpoints/{endpoint.pk}"
    assert alice.post(f"{base}/edit/", {"url": receiver.url + "?v=2", "all_types": "1",
                                        "rate_per_second": "5"}).status_code == 302
    rotated = alice.post(f"{base}/rotate/").content.decode()
    assert re.search(r'id="revealed-secret">whsec_', rotated) and "previous secret also signs" in rotated
    assert alice.post(f"{base}/enabled/", {"enabled": "0"}).status_code == 302
    with tenant_context(cast.client_a):
        endpoint.refresh_from_db()
        assert (endpoint.url.endswith("?v=2"), endpoint.enabled, endpoint.disabled_reason) == (True, False, "user")
    assert alice.post(f"{base}/enabled/", {"enabled": "1"}).status_code == 302
    receiver.answers = [(500, {}, b"down")]
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"{base}/test/")
    with tenant_context(cast.client_a):
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "pending"
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.post(f"/developers/deliveries/{delivery.pk}/replay/").status_code == 302
    with tenant_context(cast.client_a):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("succeeded", 2)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    with django_capture_on_commit_callbacks(execute=True):
        since = (timezone.now() - timedelta(hours=1)).astimezone(ZoneInfo(cast.client_a.timezone))
        response = alice.post("/developers/recover/", {"since": since.strftime("%Y-%m-%dT%H:%M"),
                                                       "endpoint": endpoint.pk}, follow=True)
    assert "1 failed deliveries queued again" in response.content.decode()
    with tenant_context(cast.client_a):
        assert WebhookDelivery.objects.get().attempts == 3
    assert alice.post(f"{base}/delete/").status_code == 302
    with tenant_context(cast.client_a):
        assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("values", [
    {"url": "https://example.com/\x00"}, {"url": "x" * 5000},
    {"url": "https://example.com/", "rate_per_second": "9" * 5000},
    {"url": "https://example.com/", "rate_per_second": "1e999"},
    {"url": "https://example.com/", "event_types": ["lead.created\x00"]},
    {"url": "http://169.254.169.254/latest/meta-data/"},
])
def test_bad_endpoint_input_is_refused_with_a_message(cast, as_user, values, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/developers/endpoints/new/", values, follow=True)
    assert response.status_code == 200
    assert b'class="messages' in response.content or b"error" in response.content
    with tenant_context(cast.client_a):
        assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("body", [b"url=https%3A%2F%2Fexample.com%2F%ED%A0%80", b"url=%FF%FE",
                                  b"url=https%3A%2F%2Fexample.com%2F&description=%ED%A0%80%00",
                                  b"url=https%3A%2F%2Fexample.com%2F&event_types=%ED%A0%80"])
def test_invalid_utf8_in_the_form_is_text_never_a_crash(cast, as_user, body):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/developers/endpoints/new/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302)
    with tenant_context(cast.client_a):
        for endpoint in WebhookEndpoint.objects.all():
            assert "\x00" not in endpoint.description and "\ud800" not in endpoint.url


@pytest.mark.parametrize("since", ["", "yesterday", "0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T00:00",
                                   "2020-01-01T00:00", "1" * 5000])
def test_absurd_recovery_dates_are_refused(cast, as_user, since):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/developers/recover/", {"since": since}, follow=True)
    assert response.status_code == 200 and b'class="messages' in response.content


def test_members_and_other_clients_get_nothing(cast, as_user, receiver, django_capture_on_commit_callbacks):
    alice = as_user(cast.alice, cast.client_a)
    add(alice, receiver)
    with tenant_context(cast.client_a):
        endpoint = WebhookEndpoint.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/developers/endpoints/{endpoint.pk}/test/")
    with tenant_context(cast.client_a):
        delivery = WebhookDelivery.objects.get()
    bob = as_user(cast.bob, cast.client_a)
    assert bob.get("/developers/").status_code == 403
    assert bob.post(f"/developers/endpoints/{endpoint.pk}/rotate/").status_code == 403
    assert bob.post("/developers/endpoints/new/", {"url": receiver.url}).status_code == 403
    carol = as_user(cast.carol, cast.client_b)  # owner of B, on B's host, with A's ids
    for path in (f"/developers/endpoints/{endpoint.pk}/", f"/developers/deliveries/{delivery.pk}/"):
        assert carol.get(path).status_code == 404
    for path in ("rotate", "delete", "test", "enabled", "edit"):
        assert carol.post(f"/developers/endpoints/{endpoint.pk}/{path}/", {"url": "https://x.example/"}
                          ).status_code in (403, 404)
    assert carol.post(f"/developers/deliveries/{delivery.pk}/replay/").status_code in (403, 404)
    assert carol.post("/developers/recover/", {"since": "2026-01-01T00:00", "endpoint": endpoint.pk}
                      ).status_code in (403, 404)
    assert carol.get("/developers/endpoints/99999999999999999999/").status_code == 404
    assert as_user(cast.carol, cast.client_a).get("/developers/").status_code == 404  # not a member of A
    b_page = carol.get("/developers/").content.decode()
    assert 'id="webhooks-plan"' in b_page and receiver.url not in b_page
    with tenant_context(cast.client_a):
        endpoint.refresh_from_db()
        assert endpoint.enabled and WebhookDelivery.objects.get().attempts == 1
        assert Event.objects.count() == 1
