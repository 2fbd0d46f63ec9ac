from io import StringIO

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core.management import call_command
from encrypted_model_fields import fields

from apps.clients.models import ApiKey
from apps.core.health import heartbeat_write
from apps.core.models import CANARY_PLAINTEXT, EncryptionCanary

pytestmark = pytest.mark.django_db


def test_it_answers_liveness_on_any_host(http):
    assert http.get("/healthz", HTTP_HOST="nowhere.example").json() == {"status": "ok"}


def test_it_reports_a_missing_worker_as_not_ready(http):
    response = http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["worker"]["status"] == "fail"


def test_it_is_ready_with_a_fresh_worker_heartbeat(http):
    heartbeat_write()
    response = http.get("/readyz")
    assert response.status_code == 200
    assert {name: check["status"] for name, check in response.json()["checks"].items()} == {
        "database": "ok", "redis": "ok", "worker": "ok", "encryption": "ok"}


def test_it_is_not_ready_when_the_encryption_key_cannot_decrypt(http, monkeypatch):
    heartbeat_write()
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([Fernet(Fernet.generate_key())]))
    response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["encryption"]["status"] == "fail"


def test_it_rotates_the_encryption_key(cast, monkeypatch):
    old = fields.CRYPTER
    new = Fernet(Fernet.generate_key())
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([new, *old._fernets]))
    call_command("rotate_encryption_key", stdout=StringIO())
    monkeypatch.setattr(fields, "CRYPTER", MultiFernet([new]))  # the old key is gone
    assert EncryptionCanary.objects.get().value == CANARY_PLAINTEXT
    key = ApiKey.objects.filter(client=cast.client_a, kind=ApiKey.Kind.SECRET).first()
    key.reveal_once = "sk_test_value"
    key.save(update_fields=["reveal_once"])
    assert ApiKey.objects.get(pk=key.pk).reveal_once == "sk_test_value"
