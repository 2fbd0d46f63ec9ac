"""Agency admin on the platform host: allauth sign-in, MFA required, actions audited."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client as HttpClient
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.clients.models import Client, StaffAccessGrant

pytestmark = pytest.mark.django_db


def staff_http(user):
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


def test_it_sends_anonymous_visitors_to_allauth_login(cast):
    response = HttpClient().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = HttpClient().get(response["Location"])
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_requires_mfa_before_the_admin(cast):
    Authenticator.objects.filter(user=cast.staff).delete()
    http = staff_http(cast.staff)
    response = http.get("/admin/", follow=True)
    urls = [url for url, _status in response.redirect_chain]
    assert urls[0] == "/admin/login/?next=/admin/"
    assert urls[1] == "/accounts/2fa/totp/activate/?next=/admin/"  # then allauth asks for the password again
    assert response.status_code == 200


def test_it_opens_the_admin_to_staff_with_mfa(cast):
    response = staff_http(cast.staff).get("/admin/clients/client/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Client ALPHA" in content and "Client BRAVO" in content
    assert "Vocalia agency administration" in content


def test_it_keeps_client_owners_out_of_the_admin(cast):
    response = staff_http(cast.alice).get("/admin/")
    assert response.status_code == 302


def test_it_suspends_from_the_admin(cast):
    http = staff_http(cast.staff)
    response = http.post("/admin/clients/client/", {"action": "action_suspend", "_selected_action": [cast.client_b.pk]})
    assert response.status_code == 302
    assert Client.objects.get(pk=cast.client_b.pk).status == "suspended"
    with tenant_context(cast.client_b):
        assert AuditEvent.objects.filter(action="client.suspended", actor_email="staff@agency.test").exists()


def test_it_opens_a_dashboard_as_staff_with_an_audited_link(cast):
    http = staff_http(cast.staff)
    response = http.post("/admin/clients/client/", {"action": "action_open_dashboard",
                                                    "_selected_action": [cast.client_a.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha.localhost:8000/staff-access/")
    grant = StaffAccessGrant.objects.get(client=cast.client_a)
    assert grant.staff == cast.staff and grant.used_at is None


def test_it_creates_and_provisions_a_client_from_the_admin(cast, django_capture_on_commit_callbacks):
    http = staff_http(cast.staff)
    form = {"name": "Foxtrot", "slug": "foxtrot", "plan": cast.client_a.plan_id, "owner_email": "",
            "sector": "", "default_language": "es", "timezone": "Europe/Madrid", "currency": "EUR",
            "domains-TOTAL_FORMS": 0, "domains-INITIAL_FORMS": 0, "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0, "api_keys-TOTAL_FORMS": 0, "api_keys-INITIAL_FORMS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/admin/clients/client/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(slug="foxtrot")
    assert client.status == "active"
    assert client.domains.get().domain == "foxtrot.localhost"
