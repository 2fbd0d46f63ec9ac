import pytest

from apps.core.health import heartbeat_write

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
        "database": "ok", "redis": "ok", "worker": "ok"}
