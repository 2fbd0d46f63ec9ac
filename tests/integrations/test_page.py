"""The dashboard's Integrations page: owner-only edits, secrets never shown back, a test e-mail and its
status, ownership (client B's owner cannot see or change client A's accounts), five languages, RTL."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.integrations.models import ConnectedAccount, Delivery

SECRET = "smtp-password-0123456789"
SMTP_FORM = {"host": "smtp.alpha.test", "port": "587", "username": "hello@alpha.test", "password": SECRET,
             "security": "starttls", "from_email": "hello@alpha.test"}


def accounts(client):
    with tenant_context(client):
        return [(a.kind, a.provider, a.credentials) for a in ConnectedAccount.objects.all()]


@pytest.mark.django_db
def test_it_shows_what_serves_each_kind_and_never_shows_a_saved_secret(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    page = http.get("/integrations/").content.decode()
    assert 'id="kind-llm"' in page and 'id="kind-stt"' in page and 'id="kind-email"' in page
    assert "In use: The agency&#x27;s mail server" in page and "the agency's default" in page
    response = http.post("/integrations/email/smtp/", SMTP_FORM)
    assert response.status_code == 302 and response["Location"] == "/integrations/"
    page = http.get("/integrations/").content.decode()
    assert SECRET not in page and "smtp.alpha.test" in page and "your own account" in page
    assert accounts(cast.client_a) == [("email", "smtp", SMTP_FORM)]
    with tenant_context(cast.client_a):
        assert AuditEvent.objects.filter(action="integration.connected", actor_email="alice@a.test").count() == 1
    assert http.post("/integrations/email/smtp/remove/").status_code == 302
    assert accounts(cast.client_a) == []


@pytest.mark.django_db
def test_a_member_sees_the_page_but_changes_nothing(cast, as_user):
    http = as_user(cast.bob, cast.client_a)
    page = http.get("/integrations/").content.decode()
    assert 'id="owner-only"' in page and 'type="submit">Save' not in page
    assert http.post("/integrations/email/smtp/", SMTP_FORM).status_code == 403
    assert http.post("/integrations/email/test/", {"to": "bob@a.test"}).status_code == 403
    assert accounts(cast.client_a) == []
    with tenant_context(cast.client_a):
        assert not Delivery.objects.exists() and not AuditEvent.objects.filter(action__startswith="integ").exists()


@pytest.mark.django_db
def test_another_clients_owner_gets_404_and_changes_nothing(cast, as_user):
    with tenant_context(cast.client_a):
        ConnectedAccount.objects.create(kind="email", provider="smtp",
                                        credentials_encrypted='{"host": "smtp.alpha.test", "from_email": "a@a.test"}')
    carol_on_alpha = as_user(cast.carol, cast.client_a)
    assert carol_on_alpha.get("/integrations/").status_code == 404
    assert carol_on_alpha.post("/integrations/email/smtp/", {**SMTP_FORM, "host": "evil.test"}).status_code == 404
    assert carol_on_alpha.post("/integrations/email/smtp/remove/").status_code == 404
    assert carol_on_alpha.post("/integrations/email/test/", {"to": "carol@b.test"}).status_code == 404
    assert accounts(cast.client_a) == [("email", "smtp", {"host": "smtp.alpha.test", "from_email": "a@a.test"})]
    carol_at_home = as_user(cast.carol, cast.client_b).get("/integrations/").content.decode()
    assert "smtp.alpha.test" not in carol_at_home
    # Her own host's routes act on her own schema only: removing an account she does not have is a 404.
    assert as_user(cast.carol, cast.client_b).post("/integrations/email/smtp/remove/").status_code == 404
    with tenant_context(cast.client_a):
        assert not Delivery.objects.exists() and ConnectedAccount.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_kind_or_provider_is_a_404(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    assert http.post("/integrations/fax/acme/", {}).status_code == 404
    assert http.post("/integrations/email/acme/", {}).status_code == 404
    assert accounts(cast.client_a) == []


@pytest.mark.django_db
def test_bad_input_is_a_message_not_a_500(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    response = http.post("/integrations/email/smtp/", {"host": "x\x00y", "from_email": "a@a.test"}, follow=True)
    assert response.status_code == 200  # the NUL byte is dropped (apps.core.inputs), never a 500
    assert accounts(cast.client_a) == [("email", "smtp", {"host": "xy", "from_email": "a@a.test"})]
    http.post("/integrations/email/smtp/remove/")
    response = http.post("/integrations/email/smtp/", {"host": "smtp.a.test"}, follow=True)
    assert "Please fill in: Sender address." in response.content.decode() and accounts(cast.client_a) == []
    response = http.post("/integrations/email/test/", {"to": "not an address"}, follow=True)
    assert "Enter a valid e-mail address." in response.content.decode()


@pytest.mark.django_db
def test_send_a_test_queues_an_email_and_shows_its_status(cast, as_user, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    http = as_user(cast.alice, cast.client_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/integrations/email/test/", {"to": "alice@a.test"})
    assert response.status_code == 302 and mailoutbox[0].to == ["alice@a.test"]
    page = http.get("/integrations/").content.decode()
    assert 'class="test-delivery"' in page and ">Sent</span>" in page and ">agency</td>" in page


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "heading", "direction"), [
    ("fr", "Intégrations", "ltr"), ("en", "Integrations", "ltr"), ("es", "Integraciones", "ltr"),
    ("ar", "التكاملات", "rtl"), ("ary", "التكاملات", "rtl"),
])
def test_it_speaks_five_languages(cast, language, heading, direction):
    http = HttpClient(HTTP_HOST="alpha.localhost")
    http.force_login(cast.alice, backend="django.contrib.auth.backends.ModelBackend")
    http.cookies["django_language"] = language
    page = http.get("/integrations/").content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert f"<h1>{heading}</h1>" in page
