"""People: invitations, roles, the last owner, sign-in."""

import re

import pytest
from django.test import Client as HttpClient

from apps.accounts.models import User
from apps.clients import services
from apps.clients.models import Invitation, Membership
from apps.core.errors import Conflict, PermissionDenied

pytestmark = pytest.mark.django_db


def test_it_invites_and_lets_a_new_person_join(cast, as_user, mailoutbox, django_capture_on_commit_callbacks):
    alice = as_user(cast.alice, cast.client_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post("/team/invite/", {"email": "New.Person@A.test", "role": "admin"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"http://alpha\.localhost:8000(/invite/[0-9a-f-]+/)", mailoutbox[0].body).group(1)
    visitor = HttpClient(HTTP_HOST="alpha.localhost")
    assert visitor.get(link).status_code == 200
    response = visitor.post(link, {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"})
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(email="new.person@a.test")
    assert Membership.objects.get(user=user, client=cast.client_a).role == "admin"
    assert visitor.get("/").status_code == 200
    assert visitor.get(link).status_code == 404  # used


def test_it_rejects_mismatched_or_weak_passwords_on_invitation(cast):
    invitation = services.invitation_create(client=cast.client_a, email="weak@a.test", role="member", actor=cast.alice)
    visitor = HttpClient(HTTP_HOST="alpha.localhost")
    response = visitor.post(f"/invite/{invitation.token}/", {"password1": "abc", "password2": "abd"})
    assert response.status_code == 200
    assert not User.objects.filter(email="weak@a.test").exists()


def test_it_ignores_an_invitation_on_the_wrong_host(cast):
    invitation = services.invitation_create(client=cast.client_a, email="x@a.test", role="member", actor=cast.alice)
    assert HttpClient(HTTP_HOST="bravo.localhost").get(f"/invite/{invitation.token}/").status_code == 404


def test_it_lets_only_owners_make_owners(cast):
    services.membership_set_role(membership=Membership.objects.get(user=cast.bob, client=cast.client_a),
                                 role="admin", actor=cast.alice)
    with pytest.raises(PermissionDenied):
        services.invitation_create(client=cast.client_a, email="o@a.test", role="owner", actor=cast.bob)
    services.invitation_create(client=cast.client_a, email="m@a.test", role="member", actor=cast.bob)


def test_it_keeps_at_least_one_owner(cast):
    alice = Membership.objects.get(user=cast.alice, client=cast.client_a)
    with pytest.raises(Conflict):
        services.membership_remove(membership=alice, actor=cast.alice)
    with pytest.raises(Conflict):
        services.membership_set_role(membership=alice, role="member", actor=cast.alice)


def test_it_refuses_to_invite_an_existing_member(cast):
    with pytest.raises(Conflict):
        services.invitation_create(client=cast.client_a, email="BOB@a.test", role="member", actor=cast.alice)


def test_it_replaces_a_pending_invitation(cast):
    first = services.invitation_create(client=cast.client_a, email="z@a.test", role="member", actor=cast.alice)
    second = services.invitation_create(client=cast.client_a, email="z@a.test", role="admin", actor=cast.alice)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.is_pending
    assert Invitation.objects.filter(client=cast.client_a, email="z@a.test", revoked_at__isnull=True).count() == 1


def test_it_signs_in_a_member_on_their_clients_host(cast):
    http = HttpClient(HTTP_HOST="alpha.localhost")
    response = http.post("/accounts/login/", {"login": "alice@a.test", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302
    assert http.get("/").status_code == 200


def test_it_throttles_repeated_failed_logins(cast):
    http = HttpClient(HTTP_HOST="alpha.localhost", HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        http.post("/accounts/login/", {"login": "alice@a.test", "password": "wrong"})
    response = http.post("/accounts/login/", {"login": "alice@a.test", "password": "correct-horse-battery-staple"})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in http.session


def test_it_updates_client_settings_for_managers_only(cast, as_user):
    bob = as_user(cast.bob, cast.client_a)
    assert bob.post("/settings/", {"name": "Hacked", "default_language": "en", "timezone": "UTC",
                                   "currency": "EUR"}).status_code == 403
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/settings/", {"name": "Alpha Dental", "default_language": "ary",
                                         "timezone": "Africa/Casablanca", "currency": "MAD"})
    assert response.status_code == 302
    cast.client_a.refresh_from_db()
    assert (cast.client_a.name, cast.client_a.default_language, cast.client_a.currency) == ("Alpha Dental", "ary",
                                                                                           "MAD")
    assert alice.post("/settings/", {"name": "", "default_language": "xx", "timezone": "Mars/Base",
                                     "currency": "EUR"}).status_code == 200


def test_it_rotates_and_reveals_keys_from_the_dashboard(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/keys/rotate/secret/")
    assert response.status_code == 200
    revealed = re.search(r'id="revealed-key">(sk_[A-Za-z0-9_]+)<', response.content.decode()).group(1)
    assert HttpClient().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {revealed}").json()["slug"] == "alpha"
    assert alice.get("/keys/").url == "/developers/"
    assert alice.get("/developers/").content.decode().count(revealed) == 0
    assert alice.post("/keys/rotate/nonsense/").status_code == 404


def test_it_lets_only_owners_remove_an_owner(cast):
    services.membership_set_role(membership=Membership.objects.get(user=cast.bob, client=cast.client_a),
                                 role="admin", actor=cast.alice)
    with pytest.raises(PermissionDenied):
        services.membership_remove(membership=Membership.objects.get(user=cast.alice, client=cast.client_a),
                                   actor=cast.bob)
    assert Membership.objects.filter(user=cast.alice, client=cast.client_a, role="owner").exists()
