"""Webhook endpoints and deliveries, end to end against a real local receiver: Standard Webhooks headers and
signature, retries with the same id, Retry-After, 410, auto-disable after 5 days, rotation, replay, recovery,
the per-endpoint rate and the lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from standardwebhooks.webhooks import Webhook

from apps.audit.models import AuditEvent
from apps.core.errors import FeatureNotInPlan, InvalidInput, NotFound, PermissionDenied
from apps.events import selectors, sending, services
from apps.events.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint
from apps.integrations.models import Delivery

pytestmark = pytest.mark.django_db


def make_endpoint(cast, url, **extra):
    return services.webhook_endpoint_create(client=cast.client_a, actor=cast.alice, url=url, **extra)


def ticket(commit):
    from apps.crm.services import ticket_create

    with commit(execute=True):
        return ticket_create(subject="Broken heater", description="Room 12")


def due_now(delivery):
    """Time travel: the delivery's next try is now (instead of in 5 s, 5 min…)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_it_creates_an_endpoint_with_a_secret_shown_once_and_encrypted_at_rest(cast, receiver):
    with tenant_context(cast.client_a):
        endpoint, secret = make_endpoint(cast, receiver.url, event_types=["lead.created", "ticket.created"])
        assert secret.startswith("whsec_") and len(secret) > 40
        assert (endpoint.event_types, endpoint.enabled) == (["lead.created", "ticket.created"], True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT secret_encrypted FROM events_webhookendpoint WHERE id = %s", [endpoint.pk])
            stored = cursor.fetchone()[0]
        assert secret not in stored and secret[6:] not in stored
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret_encrypted == secret
        assert AuditEvent.objects.filter(action="webhook.endpoint_created", target=f"webhook:{endpoint.pk}").exists()
        assert secret not in str(AuditEvent.objects.get(action="webhook.endpoint_created",
                                                    target=f"webhook:{endpoint.pk}").data)


@pytest.mark.parametrize("url", [
    "ftp://example.com/hook", "http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/x",
    "https://169.254.169.254/latest/meta-data/", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x",
    "https://localhost/x", "https://100.64.0.1/x", "https://user:pw@example.com/x", "https://example.com:0/x",
    "", "https://example.com/\x00", "https://example.com/\ud800", "https://example.com/" + "a" * 1000,
    "https://[bad/x",
])
def test_it_refuses_urls_that_are_not_public_https(cast, settings, url):
    settings.WEBHOOKS_ALLOW_HTTP = False
    with tenant_context(cast.client_a):
        with pytest.raises(InvalidInput):
            make_endpoint(cast, url)
        assert not WebhookEndpoint.objects.exists()


def test_it_refuses_members_other_plans_and_unknown_event_types(cast):
    url = "https://hooks.example.com/in"
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):
            services.webhook_endpoint_create(client=cast.client_a, actor=cast.bob, url=url)
        for types in (["lead.created", "nope"], "lead.created", [1], ["webhook.test"]):
            with pytest.raises(InvalidInput):
                make_endpoint(cast, url, event_types=types)
        for rate in ("0", "1001", "1e9", "9" * 400):
            with pytest.raises(InvalidInput):
                make_endpoint(cast, url, rate_per_second=rate)
        assert not WebhookEndpoint.objects.exists()
    with tenant_context(cast.client_b):  # starter: no webhooks in the plan
        with pytest.raises(FeatureNotInPlan):
            services.webhook_endpoint_create(client=cast.client_b, actor=cast.carol, url=url)


def test_it_delivers_a_booking_signed_as_the_standard_says(cast, receiver, django_capture_on_commit_callbacks):
    from tests.events.test_events import book

    with tenant_context(cast.client_a):
        endpoint, secret = make_endpoint(cast, receiver.url)
        appointment = book(cast, django_capture_on_commit_callbacks)
        [request] = [r for r in receiver.requests if r.json["type"] == "appointment.booked"]
        event = Event.objects.get(type="appointment.booked")
        assert request.headers["webhook-id"] == event.public_id
        assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 30
        assert request.headers["webhook-signature"].startswith("v1,")
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["data"]["reference"] == appointment.reference
        assert (payload["id"], payload["version"]) == (event.public_id, 1)
        with pytest.raises(Exception, match="No matching signature"):
            Webhook("whsec_" + "A" * 43).verify(request.body, request.headers)
        delivery = WebhookDelivery.objects.get(event=event, endpoint=endpoint)
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
        [attempt] = selectors.delivery_attempts(delivery=delivery)
        assert (attempt.response_status, attempt.response_excerpt, attempt.next_retry_at) == (200, "ok", None)
        assert attempt.request_body.encode() == request.body
        assert attempt.request_headers["webhook-id"] == event.public_id and attempt.latency_ms is not None


def test_it_retries_with_the_same_webhook_id_honouring_retry_after(cast, receiver,
                                                                    django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url, event_types=["ticket.created"])
        receiver.answers = [(500, {}, b"boom"), (429, {"Retry-After": "4000"}, b"slow down"),
                            (503, {"Retry-After": "soon"}, b"")]
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        started = timezone.now()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert timedelta(seconds=3) < delivery.next_attempt_at - started < timedelta(seconds=6)  # 5 s
        for wait in (4000, 1800):  # Retry-After 4000 s beats the schedule's 300 s; "soon" is ignored: 30 min
            due_now(delivery)
            sending.delivery_attempt(delivery_id=delivery.pk)
            delivery.refresh_from_db()
            assert delivery.status == "pending"
            assert abs((delivery.next_attempt_at - timezone.now()).total_seconds() - wait) < 5
        due_now(delivery)
        sending.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("succeeded", 4)
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1 and len(receiver.requests) == 4
        statuses = [a.response_status for a in DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")]
        assert statuses == [500, 429, 503, 200]


def test_it_gives_up_after_the_schedule_and_recovers_failed_deliveries(cast, receiver, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_SCHEDULE_S = [1]
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url)
        receiver.answers = [(502, {}, b""), (302, {"Location": "http://elsewhere.test/"}, b"")]
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        due_now(delivery)
        sending.delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 302)
        assert sending.delivery_attempt(delivery_id=delivery.pk) is None  # a failed delivery is left alone
        with django_capture_on_commit_callbacks(execute=True):
            count = services.deliveries_recover(client=cast.client_a, actor=cast.alice,
                                                since=timezone.now() - timedelta(hours=1))
        delivery.refresh_from_db()
        assert (count, delivery.status, delivery.attempts) == (1, "succeeded", 3)
        assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
        with pytest.raises(InvalidInput):
            services.deliveries_recover(client=cast.client_a, actor=cast.alice,
                                        since=timezone.now() - timedelta(days=365))


def test_it_disables_an_endpoint_that_answers_410_and_tells_the_owner(cast, receiver,
                                                                      django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        endpoint, _secret = make_endpoint(cast, receiver.url)
        receiver.answers = [(410, {}, b"gone")]
        ticket(django_capture_on_commit_callbacks)
        endpoint.refresh_from_db()
        assert (endpoint.enabled, endpoint.disabled_reason) == (False, "gone")
        assert WebhookDelivery.objects.get().status == "failed"
        assert list(selectors.endpoints_auto_disabled()) == [endpoint]
        mail = Delivery.objects.get(channel="email", to=cast.alice.email)
        assert endpoint.url in mail.body and "410" in mail.body
        ticket(django_capture_on_commit_callbacks)  # a disabled endpoint gets nothing more
        assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_it_disables_an_endpoint_failing_for_five_days(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        endpoint, _secret = make_endpoint(cast, receiver.url)
        receiver.answers = [(500, {}, b"")] * 3
        ticket(django_capture_on_commit_callbacks)
        endpoint.refresh_from_db()
        assert endpoint.enabled and endpoint.failing_since is not None
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=4))
        ticket(django_capture_on_commit_callbacks)
        endpoint.refresh_from_db()
        assert endpoint.enabled  # four days: still trying
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=5))
        ticket(django_capture_on_commit_callbacks)
        endpoint.refresh_from_db()
        assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing")
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
        assert "5 days" in Delivery.objects.get(channel="email", to=cast.alice.email).body
        # enabling it again (after a fix) and recovering sends everything, same ids
        services.webhook_endpoint_set_enabled(client=cast.client_a, actor=cast.alice, endpoint_id=endpoint.pk,
                                              enabled=True)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.deliveries_recover(client=cast.client_a, actor=cast.alice,
                                               since=timezone.now() - timedelta(hours=1)) == 3
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
        endpoint.refresh_from_db()
        assert endpoint.failing_since is None


def test_it_signs_with_both_secrets_for_a_day_after_a_rotation(cast, receiver,
                                                               django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        endpoint, old = make_endpoint(cast, receiver.url)
        endpoint, new = services.webhook_endpoint_rotate(client=cast.client_a, actor=cast.alice,
                                                         endpoint_id=endpoint.pk)
        assert new != old and new.startswith("whsec_")
        ticket(django_capture_on_commit_callbacks)
        [request] = receiver.requests
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        for secret in (old, new):
            assert Webhook(secret).verify(request.body, request.headers)["type"] == "ticket.created"
        assert endpoint.secrets_in_force(timezone.now() + timedelta(hours=25)) == [new]
        with pytest.raises(PermissionDenied):
            services.webhook_endpoint_rotate(client=cast.client_a, actor=cast.bob, endpoint_id=endpoint.pk)


def test_it_replays_one_delivery_with_the_same_id(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url)
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "succeeded"
        with django_capture_on_commit_callbacks(execute=True):
            services.delivery_replay(client=cast.client_a, actor=cast.alice, delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("succeeded", 2)
        first, second = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
        for junk in ("x", "-1", "0", "99999999999999999999999", "\x00"):
            with pytest.raises(NotFound):
                services.delivery_replay(client=cast.client_a, actor=cast.alice, delivery_id=junk)


def test_it_sends_a_test_to_one_endpoint_only(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        first, _secret = make_endpoint(cast, receiver.url)
        make_endpoint(cast, receiver.url + "?second=1")
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_endpoint_test(client=cast.client_a, actor=cast.alice, endpoint_id=first.pk)
        [request] = receiver.requests
        assert request.json["type"] == "webhook.test" and request.json["data"]["endpoint_id"] == first.pk


def test_it_sends_only_the_types_an_endpoint_chose(cast, receiver, django_capture_on_commit_callbacks):
    from apps.crm.services import lead_qualify

    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url, event_types=["lead.created"])
        ticket(django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            lead_qualify(name="Ana", email="ana@example.com")
        assert [r.json["type"] for r in receiver.requests] == ["lead.created"]
        assert Event.objects.filter(type="ticket.created").exists()  # recorded all the same


def test_it_keeps_to_the_endpoints_rate(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url, rate_per_second=1)
        with django_capture_on_commit_callbacks(execute=True):
            from apps.crm.services import ticket_create

            for number in range(3):
                ticket_create(subject=f"T{number}")
        statuses = sorted(WebhookDelivery.objects.values_list("status", "attempts"))
        # one per second: the first went (or two, across a second's edge); the rest wait a second, untried
        assert 1 <= len(receiver.requests) <= 2
        assert ("pending", 0) in statuses
        deferred = WebhookDelivery.objects.filter(status="pending")
        assert all(d.next_attempt_at > timezone.now() for d in deferred)


def test_it_never_sends_a_try_another_worker_holds(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url)
        receiver.answers = [(500, {}, b"")]
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now(),
                                                              lease_until=timezone.now() + timedelta(seconds=30))
        assert sending.delivery_attempt(delivery_id=delivery.pk) is None
        assert len(receiver.requests) == 1
        WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        assert sending.delivery_attempt(delivery_id=delivery.pk).status == "succeeded"  # the lease ran out


def test_it_records_a_receiver_that_times_out(cast, receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_TIMEOUT_S = 0.3
    receiver.delay_s = 1.0
    with tenant_context(cast.client_a):
        make_endpoint(cast, receiver.url)
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        [attempt] = delivery.attempt_log.all()
        assert (delivery.status, attempt.response_status) == ("pending", None)
        assert "timed out" in attempt.error and attempt.next_retry_at is not None


def test_another_client_cannot_reach_an_endpoint_or_delivery(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        endpoint, _secret = make_endpoint(cast, receiver.url)
        ticket(django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
    with tenant_context(cast.client_b):
        for call in (
            lambda: services.webhook_endpoint_rotate(client=cast.client_b, actor=cast.carol, endpoint_id=endpoint.pk),
            lambda: services.webhook_endpoint_delete(client=cast.client_b, actor=cast.carol, endpoint_id=endpoint.pk),
            lambda: services.webhook_endpoint_set_enabled(client=cast.client_b, actor=cast.carol,
                                                          endpoint_id=endpoint.pk, enabled=False),
        ):
            with pytest.raises(NotFound):
                call()
        with pytest.raises((NotFound, FeatureNotInPlan)):
            services.delivery_replay(client=cast.client_b, actor=cast.carol, delivery_id=delivery.pk)
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):  # carol is not a member of A
            services.webhook_endpoint_delete(client=cast.client_a, actor=cast.carol, endpoint_id=endpoint.pk)
        endpoint.refresh_from_db()
        assert endpoint.enabled and len(receiver.requests) == 1
