"""Dashboard writes go through services that check the role, write, and leave an audit row: editing an agent (its
own LLM key audited as changed, never written into the audit data), the client's settings, retrying and deleting a
knowledge document. A member is refused (403), another client's user finds nothing (404); neither changes a thing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_tenants.utils import tenant_context

from apps.agents.forms import AgentForm
from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.clients.models import Client
from apps.knowledge.models import Document
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db


def agent_post(agent: Agent, **changes: Any) -> dict[str, Any]:
    """The edit form as the page would post it, with `changes`."""
    form = AgentForm(instance=agent)
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False) or name in ("api_key", "clear_api_key"):
            continue
        data[name] = value
    data.update(changes)
    return data


def audit_rows(client: Client, action: str) -> list[AuditEvent]:
    with tenant_context(client):
        return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def agent(cast) -> Agent:
    return make_agent(cast.client_a)


@pytest.fixture
def document(cast) -> Document:
    with tenant_context(cast.client_a):
        return Document.objects.create(title="Prices", kind="text", raw_text="Cleaning: 60 EUR", status="failed")


# --- agent edit ------------------------------------------------------------------------------------------------


def test_it_audits_an_agent_edit_and_its_new_key_without_the_key(cast, as_user, agent):
    response = as_user(cast.alice, cast.client_a).post(
        f"/agents/{agent.pk}/", agent_post(agent, name="Front desk", api_key="sk-live-very-secret"))
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.name == "Front desk" and agent.api_key == "sk-live-very-secret"
    [row] = audit_rows(cast.client_a, "agent.updated")
    assert row.actor_email == "alice@a.test" and row.target == "Front desk"
    assert row.data == {"agent": agent.pk, "changed": ["name"], "api_key": "changed"}
    assert "sk-live" not in json.dumps(row.data) + row.target


def test_it_audits_a_removed_agent_key(cast, as_user, agent):
    with tenant_context(cast.client_a):
        stored = Agent.objects.get(pk=agent.pk)
        stored.api_key = "sk-old"
        stored.save()
    response = as_user(cast.alice, cast.client_a).post(f"/agents/{agent.pk}/",
                                                       agent_post(stored, clear_api_key="on"))
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        assert Agent.objects.get(pk=agent.pk).api_key == ""
    [row] = audit_rows(cast.client_a, "agent.updated")
    assert row.data == {"agent": agent.pk, "changed": [], "api_key": "removed"}


def test_a_member_may_not_edit_an_agent(cast, as_user, agent):
    response = as_user(cast.bob, cast.client_a).post(f"/agents/{agent.pk}/",
                                                     agent_post(agent, name="Hijacked", api_key="sk-bob"))
    assert response.status_code == 403
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.name == "Reception" and agent.api_key == ""
    assert audit_rows(cast.client_a, "agent.updated") == []


def test_another_clients_user_finds_no_agent_to_edit(cast, as_user, agent):
    data = agent_post(agent, name="Hijacked")
    assert as_user(cast.carol, cast.client_b).post(f"/agents/{agent.pk}/", data).status_code == 404
    assert as_user(cast.carol, cast.client_a).post(f"/agents/{agent.pk}/", data).status_code == 404
    with tenant_context(cast.client_a):
        agent.refresh_from_db()
        assert agent.name == "Reception"
    assert audit_rows(cast.client_a, "agent.updated") == []


# --- client settings -------------------------------------------------------------------------------------------


SETTINGS = {"name": "Alpha Cleaning", "default_language": "fr", "timezone": "Europe/Paris", "currency": "EUR"}


def test_it_audits_the_clients_settings(cast, as_user):
    before = Client.objects.get(pk=cast.client_a.pk)
    response = as_user(cast.alice, cast.client_a).post("/settings/", SETTINGS)
    assert response.status_code == 302
    after = Client.objects.get(pk=cast.client_a.pk)
    assert (after.name, after.default_language, after.timezone, after.currency) == \
        ("Alpha Cleaning", "fr", "Europe/Paris", "EUR")
    [row] = audit_rows(cast.client_a, "client.settings_changed")
    assert row.actor_email == "alice@a.test" and row.target == "alpha"
    expected = {field: {"from": getattr(before, field), "to": value} for field, value in SETTINGS.items()
                if getattr(before, field) != value}
    assert row.data == expected and "name" in row.data


def test_a_member_may_not_change_the_settings(cast, as_user):
    before = Client.objects.get(pk=cast.client_a.pk)
    assert as_user(cast.bob, cast.client_a).post("/settings/", SETTINGS).status_code == 403
    after = Client.objects.get(pk=cast.client_a.pk)
    assert (after.name, after.default_language, after.timezone) == (before.name, before.default_language,
                                                                    before.timezone)
    assert audit_rows(cast.client_a, "client.settings_changed") == []


def test_another_clients_user_may_not_change_the_settings(cast, as_user):
    before = Client.objects.get(pk=cast.client_a.pk)
    assert as_user(cast.carol, cast.client_a).post("/settings/", SETTINGS).status_code == 404
    assert Client.objects.get(pk=cast.client_a.pk).name == before.name
    assert audit_rows(cast.client_a, "client.settings_changed") == []


# --- knowledge documents ---------------------------------------------------------------------------------------


def test_it_audits_a_document_retry_and_queues_the_ingestion(cast, as_user, document,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_user(cast.alice, cast.client_a).post(f"/knowledge/{document.pk}/retry/")
    assert response.status_code == 302
    assert len(callbacks) == 1
    with tenant_context(cast.client_a):
        document.refresh_from_db()
        assert document.status == Document.Status.READY and document.chunks.exists()
    [row] = audit_rows(cast.client_a, "knowledge.document_retried")
    assert row.actor_email == "alice@a.test" and row.target == "Prices" and row.data == {"document": document.pk}


def test_it_audits_a_document_deletion(cast, as_user, document):
    response = as_user(cast.alice, cast.client_a).post(f"/knowledge/{document.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        assert not Document.objects.filter(pk=document.pk).exists()
    [row] = audit_rows(cast.client_a, "knowledge.document_deleted")
    assert row.target == "Prices" and row.data == {"document": document.pk}


@pytest.mark.parametrize("action", ["retry", "delete"])
def test_a_member_may_not_retry_or_delete_a_document(cast, as_user, document, action,
                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = as_user(cast.bob, cast.client_a).post(f"/knowledge/{document.pk}/{action}/", {"confirm": "yes"})
    assert response.status_code == 403
    assert callbacks == []
    with tenant_context(cast.client_a):
        assert Document.objects.get(pk=document.pk).status == Document.Status.FAILED
        assert not AuditEvent.objects.filter(action__startswith="knowledge.").exists()


@pytest.mark.parametrize("action", ["retry", "delete"])
def test_another_clients_user_finds_no_document(cast, as_user, document, action, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = as_user(cast.carol, cast.client_b).post(f"/knowledge/{document.pk}/{action}/", {"confirm": "yes"})
        assert response.status_code == 404
        response = as_user(cast.carol, cast.client_a).post(f"/knowledge/{document.pk}/{action}/", {"confirm": "yes"})
        assert response.status_code == 404
    assert callbacks == []
    with tenant_context(cast.client_a):
        assert Document.objects.get(pk=document.pk).status == Document.Status.FAILED
        assert not AuditEvent.objects.filter(action__startswith="knowledge.").exists()


# --- the services refuse a member themselves (not only the pages) ---------------------------------------------


def test_the_services_refuse_a_member(cast, agent, document):
    from apps.agents.services import agent_update
    from apps.clients.services import client_settings_update
    from apps.core.errors import PermissionDenied
    from apps.knowledge.services import document_delete, document_retry

    client = cast.client_a
    with tenant_context(client):
        calls = [lambda: agent_update(client=client, agent=agent, actor=cast.bob, values={"name": "X"}, api_key="k"),
                 lambda: client_settings_update(client=client, actor=cast.bob, values={"name": "X"}),
                 lambda: document_retry(client=client, document=document, actor=cast.bob),
                 lambda: document_delete(client=client, document=document, actor=cast.bob)]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()
        assert Agent.objects.get(pk=agent.pk).name == "Reception" and Document.objects.filter(pk=document.pk).exists()
        assert not AuditEvent.objects.filter(actor_email="bob@a.test").exists()
    assert Client.objects.get(pk=client.pk).name != "X"
