"""Sending in batches: a claim gives each delivery to one worker, a drain sends side by side and records every
answer, a burst of events starts one drain and a finishing drain leaves nothing behind, and the SSRF guard holds
with resolutions kept and connections pooled."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from unittest import mock

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.events import outbox, sending, signing, transport
from apps.events.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint
from tests.events.test_transport import fake_dns


def pending(url: str, count: int) -> list[int]:
    """`count` due deliveries of one event to a new endpoint (in the current schema); their ids."""
    endpoint = WebhookEndpoint.objects.create(url=url, secret_encrypted=signing.secret_new(), rate_per_second=1000)
    events = [Event.objects.create(type="webhook.test", data={"n": n}) for n in range(count)]
    return [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(event=event, endpoint=endpoint) for event in events])]


def test_concurrent_claims_never_give_one_delivery_to_two_workers(session_cast, receiver, django_db_blocker):
    with django_db_blocker.unblock():
        try:
            with tenant_context(session_cast.client_a):
                ids = pending(receiver.url, 60)
            barrier = threading.Barrier(4)
            claimed: list[list[int]] = []
            errors: list[str] = []

            def worker() -> None:
                mine: list[int] = []
                try:
                    with tenant_context(session_cast.client_a):
                        barrier.wait()
                        while True:
                            now = timezone.now()
                            batch = sending.deliveries_claim(now=now, lease=now + timedelta(seconds=60), limit=7)
                            if not batch:
                                break
                            mine.extend(delivery.pk for delivery in batch)
                except Exception as error:  # reported below
                    errors.append(repr(error))
                finally:
                    claimed.append(mine)
                    connections.close_all()

            threads = [threading.Thread(target=worker) for _n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert errors == []
            every = [pk for mine in claimed for pk in mine]
            assert sorted(every) == sorted(ids)  # each claimed exactly once, none left
            assert sum(1 for mine in claimed if mine) >= 2  # they really ran side by side
            with tenant_context(session_cast.client_a):
                assert set(WebhookDelivery.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
        finally:
            with tenant_context(session_cast.client_a):
                WebhookEndpoint.objects.all().delete()
                Event.objects.all().delete()


@pytest.mark.django_db
def test_a_drain_sends_side_by_side_and_records_every_answer(cast, receiver):
    receiver.delay_s = 0.4
    with tenant_context(cast.client_a):
        ids = pending(receiver.url, 10)
        receiver.answers = [(503, {"Retry-After": "120"}, b"busy")]
        started = time.monotonic()
        with mock.patch.object(outbox, "drain_queue") as queued:
            assert sending.deliveries_drain() == 10
        assert time.monotonic() - started < 10 * 0.4 / 2  # not one after the other
        assert queued.call_count == 0  # 10 < a batch: no helper
        assert len(receiver.requests) == 10
        states = sorted(WebhookDelivery.objects.filter(pk__in=ids).values_list("status", "lease_until"))
        assert states == [("pending", None)] + [("succeeded", None)] * 9
        retry = WebhookDelivery.objects.get(status="pending")
        assert retry.retry_step == 1 and retry.last_status_code == 503 and retry.queued_until is None
        assert DeliveryAttempt.objects.filter(delivery_id__in=ids).count() == 10
        assert sorted({r.headers["webhook-id"] for r in receiver.requests}) == sorted(
            Event.objects.values_list("public_id", flat=True))


@pytest.mark.django_db
def test_a_failure_of_our_own_fails_one_try_not_the_round(cast, receiver):
    real_post = transport.post

    def post(url, *, body, headers, timeout_s=None):
        if b'"n":3' in body:
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "a bug of ours")
        return real_post(url, body=body, headers=headers, timeout_s=timeout_s)

    with tenant_context(cast.client_a):
        ids = pending(receiver.url, 6)
        with mock.patch.object(transport, "post", post), mock.patch.object(outbox, "drain_queue"):
            assert sending.deliveries_drain() == 6
        states = sorted(WebhookDelivery.objects.filter(pk__in=ids).values_list("status", "last_error"))
        assert states == [("pending", "internal error: UnicodeEncodeError")] + [("succeeded", "")] * 5
        assert len(receiver.requests) == 5


@pytest.mark.django_db
def test_a_full_claim_queues_a_helper_and_an_endpoint_rate_holds_across_a_batch(cast, receiver, settings):
    settings.WEBHOOK_BATCH_SIZE = 4
    with tenant_context(cast.client_a):
        ids = pending(receiver.url, 6)
        WebhookEndpoint.objects.update(rate_per_second=5)
        with mock.patch.object(outbox, "drain_queue") as queued:
            sending.deliveries_drain()
        assert queued.call_count == 1  # the first claim filled the 4 slots: another worker may take a share
        assert 5 <= len(receiver.requests) <= 6  # 5 in this second (6 if the drain crossed into the next one)
        waiting = WebhookDelivery.objects.filter(pk__in=ids, status="pending")
        assert all(d.attempts == 0 and d.lease_until is None for d in waiting)  # untried, not counted


@pytest.mark.django_db
def test_a_burst_of_kicks_queues_one_drain(cast):
    with tenant_context(cast.client_a), mock.patch.object(outbox, "drain_queue") as queued:
        outbox.kick_mark_clear()
        for _n in range(5):
            outbox.kick_now()
        assert queued.call_count == 1
        outbox.kick_mark_clear()  # the drain stops
        outbox.kick_now()
        assert queued.call_count == 2
        outbox.kick_mark_clear()


@pytest.mark.django_db
def test_a_finishing_drain_claims_what_a_suppressed_kick_left(cast, receiver):
    """The event that commits between a drain's last claim and its clearing the mark: its kick sees the mark
    and queues nothing, so the drain's claim after the clear must send it."""
    with tenant_context(cast.client_a):
        pending(receiver.url, 1)
        real_clear = outbox.kick_mark_clear
        late: list[int] = []

        def clear() -> None:
            if not late:
                late.extend(pending(receiver.url, 1))
                outbox.kick_now()  # the mark is there: no drain queued
            real_clear()

        with mock.patch.object(outbox, "drain_queue") as queued, mock.patch.object(outbox, "kick_mark_clear", clear):
            assert sending.deliveries_drain() == 2
        assert queued.call_count == 0
        assert WebhookDelivery.objects.get(pk=late[0]).status == "succeeded" and len(receiver.requests) == 2


@pytest.fixture
def keep_alive(monkeypatch):
    """The test receiver keeps connections open (HTTP/1.1), so the transport's pool reuses them."""
    monkeypatch.setattr(BaseHTTPRequestHandler, "protocol_version", "HTTP/1.1")


def test_a_kept_resolution_and_a_pooled_connection_do_not_open_the_guard(monkeypatch, receiver, settings,
                                                                         keep_alive):
    calls = fake_dns(monkeypatch, {"hooks.example.com": "127.0.0.1"})
    url = f"http://hooks.example.com:{receiver.port}/hook"
    assert transport.post(url, body=b"{}", headers={}).status == 200  # allowed (the receiver's setting)
    assert transport.post(url, body=b"{}", headers={}).status == 200
    assert calls == ["hooks.example.com"] and len(transport._pool().connections) == 1  # kept, and reused
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for _n in range(2):
        answer = transport.post(url, body=b"{}", headers={})
        assert answer.status is None and "resolves to 127.0.0.1, a private or reserved address" in answer.error
    assert calls == ["hooks.example.com"]  # the kept answer, checked again at each connect
    assert len(receiver.requests) == 2  # the open connection to 127.0.0.1 was not used


def test_the_connected_peer_is_checked_too(monkeypatch, receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    monkeypatch.setattr(transport, "resolve_checked", lambda host, port: "127.0.0.1")  # a check that let it by
    answer = transport.post(f"http://hooks.example.com:{receiver.port}/hook", body=b"{}", headers={})
    assert answer.status is None and "connected to 127.0.0.1" in answer.error
    assert receiver.requests == []


def test_a_resolution_is_kept_only_for_its_ttl(monkeypatch, receiver, settings):
    calls = fake_dns(monkeypatch, {"hooks.example.com": "127.0.0.1"})
    url = f"http://hooks.example.com:{receiver.port}/hook"
    settings.WEBHOOK_DNS_TTL_S = 0  # the test receiver closes each connection: every post connects anew
    for _n in range(2):
        assert transport.post(url, body=b"{}", headers={}).status == 200
    assert calls == ["hooks.example.com"] * 2


def test_tls_is_verified_for_the_name_not_the_address(monkeypatch, tmp_path):
    """HTTPS goes to the checked address with the name's SNI and certificate check: a receiver whose
    certificate no trusted authority signed is refused, and the handshake carried the name."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names: list[str | None] = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def accept() -> None:
        conn, _address = server.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    fake_dns(monkeypatch, {"hooks.example.com": "127.0.0.1"})
    monkeypatch.setattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", True)
    answer = transport.post(f"https://hooks.example.com:{port}/hook", body=b"{}", headers={})
    thread.join(10)
    server.close()
    assert answer.status is None and "CERTIFICATE_VERIFY_FAILED" in answer.error
    assert names == ["hooks.example.com"]
