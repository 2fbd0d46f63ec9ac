from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_exists, tenant_context

from apps.audit.models import AuditEvent
from apps.clients import provisioning, services
from apps.clients.models import ApiKey, Client, Domain, Invitation, Plan
from apps.clients.selectors import client_by_publishable_key, client_by_secret_key
from apps.core.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db


def _new_client(slug="charlie", owner_email="owner@charlie.test"):
    return services.client_create(name="Charlie", slug=slug, plan=Plan.objects.get(code="pro"),
                                  owner_email=owner_email, provision=False)


def test_it_provisions_a_client_by_cloning_the_template(cast, mailoutbox):
    client = _new_client()
    assert client.status == Client.Status.PROVISIONING
    client = services.client_provision(client_id=client.pk)
    assert client.status == Client.Status.ACTIVE
    assert client.provisioning_step == "done"
    assert schema_exists("c_charlie")
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'c_charlie'")
        tables = {row[0] for row in cursor.fetchall()}
    assert {"usage_usagecounter", "audit_auditevent", "django_migrations"} <= tables
    assert provisioning.schema_is_current("c_charlie")
    assert Domain.objects.get(tenant=client).domain == "charlie.localhost"
    with tenant_context(client):
        assert list(AuditEvent.objects.values_list("action", flat=True)) == ["client.provisioned", "member.invited"]
        assert AuditEvent.objects.count() == 2
    invitation = Invitation.objects.get(client=client)
    assert invitation.email == "owner@charlie.test" and invitation.role == "owner"


def test_it_sends_the_owner_invitation_after_commit(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client = services.client_create(name="Delta", slug="delta", plan=Plan.objects.get(code="starter"),
                                        owner_email="boss@delta.test", default_language="es")
    client.refresh_from_db()
    assert client.status == Client.Status.ACTIVE  # the Celery task ran (eagerly) after commit
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["boss@delta.test"]
    assert "http://delta.localhost:8000/invite/" in mailoutbox[0].body
    assert "Delta" in mailoutbox[0].subject


def test_it_is_safe_to_provision_twice(cast):
    client = services.client_provision(client_id=_new_client().pk)
    keys_before = list(ApiKey.objects.filter(client=client).values_list("lookup", flat=True))
    again = services.client_provision(client_id=client.pk)
    assert again.status == Client.Status.ACTIVE
    assert list(ApiKey.objects.filter(client=client).values_list("lookup", flat=True)) == keys_before
    assert Invitation.objects.filter(client=client, accepted_at__isnull=True, revoked_at__isnull=True).count() == 1


def test_it_records_a_readable_failure(cast, monkeypatch):
    client = _new_client()
    monkeypatch.setattr(provisioning, "TEMPLATE_SCHEMA", "_no_such_template")
    with pytest.raises(provisioning.TemplateMissing):
        services.client_provision(client_id=client.pk)
    client.refresh_from_db()
    assert client.status == Client.Status.FAILED
    assert "schema" in client.status_detail and "migrate_all" in client.status_detail
    monkeypatch.undo()
    assert services.client_provision(client_id=client.pk).status == Client.Status.ACTIVE


def test_it_stores_the_secret_key_only_hashed(cast):
    key = ApiKey.objects.get(client=cast.client_a, kind=ApiKey.Kind.SECRET)
    assert cast.sk_a.startswith(key.lookup + "_")
    assert key.secret_hash and cast.sk_a not in key.secret_hash
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM clients_apikey WHERE id = %s", [key.pk])
        row = cursor.fetchone()
    assert not any(isinstance(value, str) and cast.sk_a in value for value in row)
    assert client_by_secret_key(cast.sk_a) == cast.client_a
    assert client_by_secret_key(cast.sk_a[:-1] + ("A" if cast.sk_a[-1] != "A" else "B")) is None


def test_it_keeps_the_old_secret_key_valid_until_the_overlap_ends(cast, monkeypatch):
    _key, new_full = services.secret_key_rotate(client=cast.client_a, actor=cast.alice, overlap=timedelta(hours=2))
    assert client_by_secret_key(cast.sk_a) == cast.client_a
    assert client_by_secret_key(new_full) == cast.client_a
    later = timezone.now() + timedelta(hours=2, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client_by_secret_key(cast.sk_a) is None
    assert client_by_secret_key(new_full) == cast.client_a


def test_it_rotates_the_widget_key_with_an_overlap(cast, monkeypatch):
    new = services.publishable_key_rotate(client=cast.client_a, actor=cast.alice, overlap=timedelta(minutes=30))
    assert client_by_publishable_key(cast.pk_a) == cast.client_a
    assert client_by_publishable_key(new.lookup) == cast.client_a
    later = timezone.now() + timedelta(minutes=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client_by_publishable_key(cast.pk_a) is None
    assert client_by_publishable_key(new.lookup) == cast.client_a


def test_it_shows_a_provisioned_secret_key_once(cast):
    client = services.client_provision(client_id=_new_client("echo", "").pk)
    key = ApiKey.objects.get(client=client, kind=ApiKey.Kind.SECRET)
    value = services.secret_key_reveal(key=key, actor=cast.staff)
    assert client_by_secret_key(value) == client
    with pytest.raises(Conflict):
        services.secret_key_reveal(key=key, actor=cast.staff)


@pytest.mark.parametrize("slug", ["a", "Bad_Slug", "admin", "-x-", "x" * 41])
def test_it_refuses_bad_slugs(cast, slug):
    with pytest.raises(InvalidInput):
        services.client_create(name="x", slug=slug, plan=Plan.objects.get(code="pro"), provision=False)


def test_it_refuses_a_duplicate_slug(cast):
    with pytest.raises(Conflict):
        services.client_create(name="x", slug="alpha", plan=Plan.objects.get(code="pro"), provision=False)


def test_it_suspends_and_reactivates_with_an_audit_trail(cast):
    services.client_suspend(client=cast.client_b, actor=cast.staff, reason="unpaid")
    services.client_reactivate(client=cast.client_b, actor=cast.staff)
    with tenant_context(cast.client_b):
        actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_email"))[-2:]
    assert actions == [("client.suspended", "staff@agency.test"), ("client.reactivated", "staff@agency.test")]


def test_it_records_platform_migrations_in_a_client_schema_without_replaying_them(cast):
    from django.db.migrations.loader import MigrationLoader

    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "t_record"')
    assert provisioning._platform_migrations_record("t_record") > 0
    recorded = provisioning._applied("t_record")
    tenant_labels = provisioning._tenant_labels()
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)
    assert recorded == {node for node in on_disk if node[0] not in tenant_labels}
    assert ("djstripe", "0002_2_10") in recorded
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 't_record'")
        assert cursor.fetchone()[0] == 1  # django_migrations only: recorded, not run
    assert provisioning._platform_migrations_record("t_record") == 0
    assert provisioning._applied(provisioning.TEMPLATE_SCHEMA) >= on_disk
