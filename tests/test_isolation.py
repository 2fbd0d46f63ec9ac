"""Every route that exists so far, asked by the wrong person or key, answers 404/401/403 and changes nothing."""

import pytest
from django.db import connection, transaction
from django.test import Client as HttpClient
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.clients import services
from apps.clients.middleware import STAFF_SESSION_KEY
from apps.clients.models import ApiKey, Membership
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

DASHBOARD_PAGES = ["/", "/team/", "/settings/", "/install/", "/install/preview/", "/agents/", "/knowledge/",
                   "/conversations/", "/leads/", "/tickets/", "/appointments/", "/outbox/", "/agents/new/"]


def test_it_shows_a_member_their_own_client(cast, as_user):
    response = as_user(cast.alice, cast.client_a).get("/")
    assert response.status_code == 200
    assert "Client ALPHA" in response.content.decode()
    assert "Client BRAVO" not in response.content.decode()


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
def test_it_hides_a_client_from_another_clients_owner(cast, as_user, path):
    response = as_user(cast.carol, cast.client_a).get(path)
    assert response.status_code == 404
    assert "Client ALPHA" not in response.content.decode()


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
def test_it_hides_a_client_from_a_user_of_no_client(cast, as_user, path):
    assert as_user(cast.dave, cast.client_a).get(path).status_code == 404


def test_it_never_lets_a_session_from_client_a_open_client_b(cast):
    http = HttpClient(HTTP_HOST=host_of(cast.client_a))
    http.force_login(cast.alice, backend="django.contrib.auth.backends.ModelBackend")
    assert http.get("/").status_code == 200
    # the same session cookie replayed on B's host
    assert http.get("/", HTTP_HOST=host_of(cast.client_b)).status_code == 404


def test_it_sends_anonymous_visitors_to_the_login_page(cast):
    response = HttpClient(HTTP_HOST=host_of(cast.client_a)).get("/team/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/team/"


def test_it_hides_agency_staff_without_an_access_link(cast, as_user):
    assert as_user(cast.staff, cast.client_a).get("/").status_code == 404


def test_it_answers_an_unknown_host_with_a_404_page(cast):
    response = HttpClient(HTTP_HOST="nobody.localhost").get("/")
    assert response.status_code == 404
    assert "<html" in response.content.decode()


def test_it_shows_a_clear_page_for_a_suspended_client(cast, as_user):
    services.client_suspend(client=cast.client_a, actor=cast.staff)
    response = as_user(cast.alice, cast.client_a).get("/")
    assert response.status_code == 403
    assert "suspended" in response.content.decode()


def test_it_asks_to_wait_while_a_client_is_being_set_up(cast, as_user):
    type(cast.client_a).objects.filter(pk=cast.client_a.pk).update(status="provisioning")
    from apps.core.platform_cache import cache_delete_many
    cache_delete_many([("host", host_of(cast.client_a))])
    response = as_user(cast.alice, cast.client_a).get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"


def test_it_lets_a_member_see_but_not_manage(cast, as_user):
    bob = as_user(cast.bob, cast.client_a)
    assert bob.get("/team/").status_code == 200
    assert bob.get("/keys/").status_code == 403
    assert bob.get("/developers/").status_code == 403
    assert bob.post("/keys/rotate/secret/").status_code == 403
    assert bob.post("/team/invite/", {"email": "x@y.test", "role": "owner"}).status_code == 403
    assert not cast.client_a.invitations.filter(email="x@y.test").exists()


def test_it_hides_another_clients_objects_by_id(cast, as_user):
    carol_membership = Membership.objects.get(user=cast.carol, client=cast.client_b)
    b_key = ApiKey.objects.filter(client=cast.client_b).first()
    alice = as_user(cast.alice, cast.client_a)
    assert alice.post(f"/team/{carol_membership.pk}/remove/").status_code == 404
    assert alice.post(f"/team/{carol_membership.pk}/role/", {"role": "member"}).status_code == 404
    assert alice.post(f"/keys/{b_key.pk}/revoke/").status_code == 404
    assert alice.post(f"/keys/{b_key.pk}/reveal/").status_code == 404
    assert Membership.objects.filter(pk=carol_membership.pk, role="owner").exists()
    b_key.refresh_from_db()
    assert b_key.revoked_at is None


def test_it_opens_a_dashboard_for_staff_through_a_one_time_link(cast):
    url = services.staff_access_link_create(client=cast.client_a, staff=cast.staff, reason="support ticket 42")
    path = url.split("localhost:8000", 1)[1]
    http = HttpClient(HTTP_HOST=host_of(cast.client_a))
    response = http.get(path)
    assert response.status_code == 302 and response["Location"] == "/"
    assert http.session[STAFF_SESSION_KEY] == cast.client_a.pk
    assert "Agency staff view" in http.get("/").content.decode()
    # used once; it does not work again, nor on another client's host, nor opens client B
    assert HttpClient(HTTP_HOST=host_of(cast.client_a)).get(path).status_code == 403
    assert http.get("/", HTTP_HOST=host_of(cast.client_b)).status_code == 404
    with tenant_context(cast.client_a):
        event = AuditEvent.objects.filter(action="staff.dashboard_opened").get()
    assert event.actor_email == "staff@agency.test" and event.data["reason"] == "support ticket 42"


def test_it_refuses_a_staff_link_on_another_clients_host(cast):
    url = services.staff_access_link_create(client=cast.client_a, staff=cast.staff)
    path = url.split("localhost:8000", 1)[1]
    assert HttpClient(HTTP_HOST=host_of(cast.client_b)).get(path).status_code == 403


def test_it_refuses_a_forged_staff_link(cast):
    response = HttpClient(HTTP_HOST=host_of(cast.client_a)).get("/staff-access/not-a-signed-token/")
    assert response.status_code == 403


def test_it_answers_an_oversize_body_with_413(cast, as_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = as_user(cast.alice, cast.client_a).post("/settings/", {"name": "x" * 5000})
    assert response.status_code == 413
    cast.client_a.refresh_from_db()
    assert cast.client_a.name == "Client ALPHA"


@pytest.mark.django_db
def test_the_schema_survives_a_rolled_back_savepoint_with_limited_set_calls(cast, settings):
    """search_path is set once per connection (TENANT_LIMIT_SET_CALLS); a rollback undoes the SET and must be
    noticed, or the next query would silently run in another schema."""
    assert settings.TENANT_LIMIT_SET_CALLS
    with tenant_context(cast.client_a):
        AuditEvent.objects.create(action="probe.savepoint")
    with tenant_context(cast.client_b):
        try:
            with transaction.atomic():
                assert not AuditEvent.objects.filter(action="probe.savepoint").exists()  # SET inside the savepoint
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        with connection.cursor() as cursor:
            cursor.execute("SHOW search_path")
            assert cast.client_b.schema_name in cursor.fetchone()[0]
        assert not AuditEvent.objects.filter(action="probe.savepoint").exists()
