"""Outbound deliveries: queued by a service, sent by a Celery task after the commit, in the client's schema;
retried with backoff on a transient failure, failed on a permanent one or the last try; updated by callbacks."""

from __future__ import annotations

import smtplib

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.core.errors import InvalidInput, PermissionDenied
from apps.integrations import services
from apps.integrations.models import Delivery


def connect_smtp(cast, settings_values):
    return services.account_connect(client=cast.client_a, kind="email", provider="smtp", values=settings_values,
                                    actor=cast.alice)


@pytest.mark.django_db
def test_it_queues_and_sends_only_after_the_commit_in_the_clients_schema(cast, mailoutbox,
                                                                         django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            delivery = services.delivery_queue(channel="email", to=" x@example.com ", body="Hello", subject="Hi")
            assert (delivery.status, delivery.attempts, mailoutbox) == ("queued", 0, [])
        assert len(callbacks) == 1
        delivery.refresh_from_db()
        assert (delivery.status, delivery.provider, delivery.attempts, delivery.to) == ("sent", "agency", 1,
                                                                                         "x@example.com")
        assert delivery.sent_at is not None and mailoutbox[0].subject == "Hi"
        assert connection.schema_name == cast.client_a.schema_name  # the task gave the schema back
    with tenant_context(cast.client_b):
        assert not Delivery.objects.filter(pk=delivery.pk, to="x@example.com").exists()


@pytest.mark.django_db
def test_it_refuses_bad_addresses_and_empty_messages_before_queueing(cast):
    with tenant_context(cast.client_a):
        for channel, to, body in (("sms", "not a phone", "x"), ("email", "nobody", "x"), ("fax", "+3361", "x"),
                                  ("sms", "+33612345678", "  ")):
            with pytest.raises(InvalidInput):
                services.delivery_queue(channel=channel, to=to, body=body)
        assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_it_retries_a_dropped_connection_then_sends(cast, fake_smtp, smtp_settings, eager_retries,
                                                    django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        connect_smtp(cast, smtp_settings)
        fake_smtp.fail_with = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="email", to="x@example.com", body="Hello")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.provider, delivery.attempts, delivery.last_error) == ("sent", "smtp", 2, "")
        assert len(fake_smtp.sessions) == 2 and delivery.provider_message_id.startswith("<")


@pytest.mark.django_db
def test_it_fails_at_once_on_refused_credentials_without_leaking_them(cast, fake_smtp, smtp_settings,
                                                                      django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        connect_smtp(cast, {**smtp_settings, "password": "wrong"})
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="email", to="x@example.com", body="Hello")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("failed", 1)
        assert "SMTPAuthenticationError" in delivery.last_error and "wrong" not in delivery.last_error


@pytest.mark.django_db
@override_settings(DELIVERY_MAX_ATTEMPTS=3)
def test_it_gives_up_after_the_last_try(cast, fake_smtp, smtp_settings, eager_retries,
                                       django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        connect_smtp(cast, smtp_settings)
        fake_smtp.fail_with = [ConnectionRefusedError(111, "Connection refused") for _ in range(5)]
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="email", to="x@example.com", body="Hello")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("failed", 3) and "refused" in delivery.last_error
        assert len(fake_smtp.fail_with) == 2


@pytest.mark.django_db
def test_a_second_run_of_the_task_sends_nothing_again(cast, mailoutbox, django_capture_on_commit_callbacks):
    from apps.integrations.tasks import delivery_send_task

    with tenant_context(cast.client_a):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="email", to="x@example.com", body="Hello")
        delivery_send_task.apply(args=[delivery.pk])  # at-least-once: the broker may hand it out twice
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, len(mailoutbox)) == ("sent", 1, 1)


@pytest.mark.django_db
def test_sms_without_a_provider_stays_in_the_outbox_and_says_so(cast, django_capture_on_commit_callbacks):
    from apps.integrations.sms.outbox import OutboxSms

    with tenant_context(cast.client_a):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="sms", to="+33612345678", body="RDV demain 9h")
        delivery.refresh_from_db()
        assert (delivery.provider, delivery.kept_in_outbox) == ("outbox", True)
        assert OutboxSms.sent[-1].reference == str(delivery.pk)


@pytest.mark.django_db
def test_callbacks_move_the_status_forward_only(cast, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.delivery_queue(channel="sms", to="+33612345678", body="x")
        delivery.refresh_from_db()
        kwargs = {"provider": "outbox", "provider_message_id": delivery.provider_message_id}
        assert services.delivery_status_update(status="delivered", **kwargs).status == "delivered"
        assert services.delivery_status_update(status="sent", **kwargs).status == "delivered"  # late, ignored
        assert services.delivery_status_update(status="failed", error="x", **kwargs).status == "delivered"
        delivery.refresh_from_db()
        assert delivery.delivered_at is not None
        assert services.delivery_status_update(provider="outbox", provider_message_id="nope", status="sent") is None
        with pytest.raises(InvalidInput):
            services.delivery_status_update(status="read", **kwargs)


@pytest.mark.django_db
def test_the_test_email_is_owner_only_queued_and_audited(cast, mailoutbox, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):
            services.email_test_queue(client=cast.client_a, to="bob@a.test", actor=cast.bob)
        with django_capture_on_commit_callbacks(execute=True):
            delivery = services.email_test_queue(client=cast.client_a, to="alice@a.test", actor=cast.alice)
        delivery.refresh_from_db()
        assert (delivery.purpose, delivery.status, mailoutbox[0].to) == ("test", "sent", ["alice@a.test"])
        event = AuditEvent.objects.get(action="integration.test_sent")
        assert (event.actor_email, event.data) == ("alice@a.test", {"delivery": delivery.pk})
