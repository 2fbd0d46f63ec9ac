"""What every endpoint shares: one error format, rate-limit headers, plan gating, cursor pages, created-at filters,
Idempotency-Key."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.api import idempotency
from apps.crm.models import Ticket
from apps.crm.services import ticket_create
from apps.knowledge.models import Document
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


# --- errors -------------------------------------------------------------------------------------------------------

def test_it_answers_every_failure_in_one_shape(cast, api_a, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert assert_error(Api_none().get("leads"), 401, "not_authenticated")["type"] == "authentication_error"
    assert assert_error(api_a.get("leads/999999"), 404, "not_found")["type"] == "not_found"
    assert assert_error(api_a.get("no-such-thing"), 404, "not_found")["type"] == "not_found"
    assert assert_error(api_a.delete("leads"), 405, "method_not_allowed")["type"] == "invalid_request"
    assert assert_error(api_a.post("appointments", raw=b"a=1", content_type="text/plain"), 415,
                        "unsupported_media_type")
    assert_error(api_a.get("leads", HTTP_ACCEPT="text/html"), 406, "not_acceptable")
    big = json.dumps({"kind": "text", "language": "fr", "text": "x" * 5000})
    assert assert_error(api_a.post("knowledge/documents", raw=big.encode()), 413, "payload_too_large")
    error = assert_error(api_a.post("appointments", raw=b'{"agent": '), 400)
    assert error["type"] == "invalid_request"
    with tenant_context(cast.client_a):
        assert Document.objects.count() == 1


def Api_none():  # noqa: N802 - reads like the fixtures
    from tests.api.conftest import Api

    return Api(None)


def test_it_answers_an_unexpected_failure_with_a_json_500(cast, api_a, monkeypatch):
    from apps.crm import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "leads_list", broken)
    error = assert_error(api_a.get("leads"), 500, "server_error")
    assert error["type"] == "api_error" and "boom" not in error["message"]


# --- rate limits and plan ---------------------------------------------------------------------------------------

@pytest.fixture
def frozen_window(monkeypatch):
    """One fixed moment, 20 s into a minute: the counters' window cannot roll over during the test."""
    from apps.core import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000_020.0)


def test_it_sends_rate_limit_headers_on_every_answer(cast, api_a, world, frozen_window):
    ok, missing, bad = api_a.get("leads"), api_a.get("leads/999999"), api_a.get("leads", {"limit": "x"})
    assert [r.status_code for r in (ok, missing, bad)] == [200, 404, 400]
    assert [int(r["RateLimit-Remaining"]) for r in (ok, missing, bad)] == [59, 58, 57]
    assert all(r["RateLimit-Limit"] == "60" and r["RateLimit-Reset"] == "40" for r in (ok, missing, bad))


def test_it_counts_requests_without_a_valid_key_per_address(cast, settings, frozen_window):
    from tests.api.conftest import Api

    settings.API_UNAUTHENTICATED_PER_MINUTE = 2
    guesses = [Api("sk_" + "a" * 12 + "_" + "b" * 40).get("leads") for _ in range(2)]
    assert [r.status_code for r in guesses] == [401, 401]
    assert [r["RateLimit-Remaining"] for r in guesses] == ["1", "0"]
    assert_error(Api(None).get("leads"), 429, "rate_limited")
    assert Api(cast.sk_a).get("leads").status_code == 200  # a valid key has the plan's own budget


def test_it_answers_429_with_retry_after_past_the_plans_budget(cast, api_b, frozen_window):
    from apps.clients.models import Plan

    Plan.objects.filter(code="pro").update(requests_per_minute=3)
    answers = [api_b.get("leads") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    error = assert_error(answers[-1], 429, "rate_limited")
    assert error["type"] == "rate_limit_error"
    assert answers[-1]["RateLimit-Remaining"] == "0" and answers[-1]["Retry-After"] == "40"


def test_it_refuses_a_plan_without_api_access_but_still_answers_me(cast):
    from tests.api.conftest import Api

    starter = Api(cast.sk_b)  # client B is on the starter plan: no api_access
    error = assert_error(starter.get("leads"), 403, "feature_not_in_plan")
    assert error["type"] == "permission_error"
    assert_error(starter.post("appointments", {}), 403, "feature_not_in_plan")
    assert starter.get("me").status_code == 200


# --- pagination and filters -----------------------------------------------------------------------------------------

def _tickets(client, count, *, start=None):
    start = start or timezone.now() - timedelta(days=1)
    with tenant_context(client):
        made = [ticket_create(subject=f"T{index}") for index in range(count)]
        for index, ticket in enumerate(made):
            Ticket.objects.filter(pk=ticket.pk).update(created=start + timedelta(minutes=index))
        return [ticket.pk for ticket in made]


def test_it_pages_with_a_cursor_stable_under_inserts(cast, api_a):
    ids = _tickets(cast.client_a, 7)
    newest_first = list(reversed(ids))
    first = api_a.get("tickets", {"limit": 3}).json()
    assert [row["id"] for row in first["data"]] == newest_first[:3] and first["has_more"]
    _tickets(cast.client_a, 2, start=timezone.now())  # newer rows arrive between two pages
    second = api_a.get("tickets", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [row["id"] for row in second["data"]] == newest_first[3:6]
    third = api_a.get("tickets", {"limit": 3, "cursor": second["next_cursor"]}).json()
    assert [row["id"] for row in third["data"]] == newest_first[6:]
    assert third["has_more"] is False and third["next_cursor"] is None


def test_it_pages_rows_created_at_the_same_instant_without_loss(cast, api_a):
    moment = timezone.now() - timedelta(hours=1)
    with tenant_context(cast.client_a):
        made = [ticket_create(subject=f"S{index}").pk for index in range(5)]
        Ticket.objects.filter(pk__in=made).update(created=moment)
    seen, cursor = [], None
    while True:
        page = api_a.get("tickets", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["id"] for row in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(made, reverse=True)


def test_it_filters_on_created_at(cast, api_a):
    start = timezone.now() - timedelta(days=10)
    ids = _tickets(cast.client_a, 5, start=start)
    after = (start + timedelta(minutes=1, seconds=30)).isoformat()
    before = (start + timedelta(minutes=3, seconds=30)).isoformat()
    rows = api_a.get("tickets", {"created_after": after, "created_before": before}).json()["data"]
    assert [row["id"] for row in rows] == [ids[3], ids[2]]
    day = (start + timedelta(days=1)).date().isoformat()
    assert api_a.get("tickets", {"created_before": day}).json()["data"] != []
    assert api_a.get("tickets", {"created_after": "2999-01-01"}).json()["data"] == []


@pytest.mark.parametrize("params, param", [
    ({"created_after": "yesterday"}, "created_after"),
    ({"created_after": "2026-02-30"}, "created_after"),
    ({"created_before": "2026-13-01T00:00:00Z"}, "created_before"),
    ({"created_before": "0001-01-01"}, "created_before"),
    ({"created_after": "9999-12-31T23:59:59+14:00"}, "created_after"),
    ({"created_after": "99999-01-01"}, "created_after"),
    ({"created_after": "2026-01-01\x00"}, "created_after"),
    ({"limit": "0"}, "limit"),
    ({"limit": "101"}, "limit"),
    ({"limit": "9" * 40}, "limit"),
    ({"limit": "-1"}, "limit"),
    ({"cursor": "garbage"}, "cursor"),
    ({"cursor": "WyIyMDI2LTEyLTAxIiwgMV0:1abc:forged"}, "cursor"),
    ({"status": "reopened"}, "status"),
    ({"status": "open\x00"}, "status"),
])
def test_it_refuses_bad_list_parameters_naming_them(cast, api_a, params, param):
    assert assert_error(api_a.get("tickets", params), 400)["param"] == param


# --- idempotency --------------------------------------------------------------------------------------------------

def _book(api, world, key, start=None, name="Paul"):
    body = {"agent": world.agent.pk, "start": (start or world.slots[0]).isoformat(), "customer_name": name}
    return api.post("appointments", body, HTTP_IDEMPOTENCY_KEY=key)


def test_it_replays_the_first_answer_for_the_same_key(cast, api_a, world):
    first = _book(api_a, world, "k-1")
    again = _book(api_a, world, "k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    with tenant_context(cast.client_a):
        from apps.bookings.models import Appointment

        assert Appointment.objects.filter(customer_name="Paul").count() == 1


def test_it_replays_an_error_answer_too(cast, api_a, world):
    night = world.slots[0].replace(hour=3)
    first, again = _book(api_a, world, "k-err", start=night), _book(api_a, world, "k-err", start=night)
    assert first.status_code == again.status_code == 400 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"


def test_it_refuses_the_same_key_with_other_parameters(cast, api_a, world):
    assert _book(api_a, world, "k-2").status_code == 201
    error = assert_error(_book(api_a, world, "k-2", name="Zoé"), 422, "idempotency_key_reused")
    assert error["param"] == "Idempotency-Key"


def test_it_keeps_keys_per_client(cast, api_a, api_b, world):
    from tests.api.conftest import make_world

    world_b = make_world(cast.client_b)
    assert _book(api_a, world, "shared").status_code == 201
    answer_b = _book(api_b, world_b, "shared", start=world_b.slots[0])
    assert answer_b.status_code == 201 and "Idempotent-Replayed" not in answer_b


def test_it_answers_409_while_the_same_key_is_still_running(cast, api_a, world, monkeypatch):
    """Two requests with one key at once: the second is told to retry; once the first is done, it is replayed."""
    from apps.bookings import services

    entered, release = threading.Event(), threading.Event()
    real = services.appointment_create

    def slow(**kwargs):
        entered.set()
        assert release.wait(10)
        return real(**kwargs)

    monkeypatch.setattr(services, "appointment_create", slow)
    results = {}
    body = json.dumps({"agent": world.agent.pk, "start": world.slots[0].isoformat(), "customer_name": "Paul"})

    def first():
        from django.db import connection

        try:  # another thread: its own connection, which cannot see the test's uncommitted rows, hence the 404
            results["first"] = HttpClient().post("/api/v1/appointments", body, content_type="application/json",
                                                 HTTP_AUTHORIZATION=f"Bearer {cast.sk_a}", HTTP_IDEMPOTENCY_KEY="k-3")
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(10)
    second = api_a.post("appointments", raw=body.encode(), HTTP_IDEMPOTENCY_KEY="k-3")
    release.set()
    thread.join(10)
    assert_error(second, 409, "idempotency_in_progress")
    assert second["Retry-After"] == "1"
    third = api_a.post("appointments", raw=body.encode(), HTTP_IDEMPOTENCY_KEY="k-3")
    assert third.status_code == results["first"].status_code and third["Idempotent-Replayed"] == "true"


def test_it_releases_the_key_after_a_server_error(cast, api_a, world, monkeypatch):
    from apps.bookings import services

    real = services.appointment_create
    monkeypatch.setattr(services, "appointment_create", lambda **kwargs: (_ for _ in ()).throw(RuntimeError("x")))
    assert _book(api_a, world, "k-4").status_code == 500
    monkeypatch.setattr(services, "appointment_create", real)
    retried = _book(api_a, world, "k-4")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "a\tb"])
def test_it_refuses_a_malformed_key(cast, api_a, world, key):
    assert assert_error(_book(api_a, world, key), 400)["param"] == "Idempotency-Key"


def test_it_keeps_an_answer_for_24_hours(cast, api_a, world):
    from apps.core.redis import get_redis

    assert _book(api_a, world, "k-ttl").status_code == 201
    keys = get_redis().keys("*idem*")
    assert len(keys) == 1
    assert idempotency.TTL_S - 5 <= get_redis().ttl(keys[0]) <= idempotency.TTL_S
