"""REST API: `Authorization: Bearer sk_…` finds the client; every bad key is a 401 JSON, never a 500."""

import pytest
from django.test import Client as HttpClient

from apps.clients import services
from apps.clients.models import ApiKey, Plan

pytestmark = pytest.mark.django_db


def get(path, key=None, header=None):
    headers = {}
    if header is not None:
        headers["HTTP_AUTHORIZATION"] = header
    elif key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return HttpClient().get(path, **headers)


def test_it_answers_for_the_keys_client(cast):
    response = get("/api/v1/me", cast.sk_a)
    assert response.status_code == 200
    body = response.json()
    assert (body["slug"], body["plan"]) == ("alpha", "pro")
    usage = {row["quota"]: row for row in body["usage"]}
    assert usage["monthly_conversations"]["limit"] == 2000
    assert usage["monthly_conversations"]["left"] == 2000 - usage["monthly_conversations"]["used"]
    assert get("/api/v1/me", cast.sk_b).json()["slug"] == "bravo"


@pytest.mark.parametrize("header, code", [
    (None, "not_authenticated"),
    ("Token abc", "invalid_key"),
    ("Bearer", "invalid_key"),
    ("Bearer sk_short", "invalid_key"),
    ("Bearer pk_" + "a" * 24, "invalid_key"),
    ("Bearer sk_" + "a" * 12 + "_" + "b" * 40, "invalid_key"),
    ("Bearer ' OR 1=1 --", "invalid_key"),
    ("Bearer " + "é" * 300, "invalid_key"),
])
def test_it_answers_401_json_for_a_bad_key(cast, header, code):
    response = HttpClient().get("/api/v1/me", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_it_refuses_a_revoked_key(cast):
    key = ApiKey.objects.get(client=cast.client_a, kind=ApiKey.Kind.SECRET)
    services.key_revoke(key=key, actor=cast.alice)
    assert get("/api/v1/me", cast.sk_a).status_code == 401


def test_it_refuses_a_suspended_clients_key(cast):
    services.client_suspend(client=cast.client_b, actor=cast.staff)
    response = get("/api/v1/me", cast.sk_b)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "client_unavailable"


def test_it_rate_limits_per_client_plan(cast):
    starter = Plan.objects.get(code="starter")
    assert cast.client_b.plan == starter and starter.requests_per_minute == 20
    statuses = [get("/api/v1/me", cast.sk_b).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20
    limited = get("/api/v1/me", cast.sk_b)
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["error"]["code"] == "rate_limited"
    assert get("/api/v1/me", cast.sk_a).status_code == 200  # A has its own budget


def test_it_answers_unknown_api_paths_in_json(cast):
    response = get("/api/v1/nothing-here", cast.sk_a)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_does_not_serve_the_api_on_a_client_host(cast):
    response = HttpClient(HTTP_HOST="alpha.localhost").get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {cast.sk_a}")
    assert response.status_code in (302, 404)
