"""Agent writes from the dashboard: editing an agent (its own LLM key included, audited as changed, never stored in
the audit data)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.clients.services import manager_require

AGENT_FIELDS = ("name", "status", "languages", "default_language", "tools", "provider", "model", "base_url",
                "temperature", "appointment_minutes", "buffer_minutes", "handover_phone", "handover_email",
                "business_hours")


def _texts_key(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Texts compared by what they say: a language or a text left empty is the same as one not stored."""
    return {code: {key: value for key, value in (values or {}).items() if value}
            for code, values in texts.items() if any((values or {}).values())}


def agent_update(*, client: Client, agent: Agent, actor: Any, values: dict[str, Any],
                 texts: dict[str, dict[str, str]] | None = None, api_key: str = "", clear_api_key: bool = False,
                 ip: str | None = None) -> Agent:
    """Save the agent's settings (`values`: AGENT_FIELDS), its texts per language (merged over the stored ones) and
    its own API key (`api_key` replaces it, `clear_api_key` removes it, neither keeps it). Owners and admins only.
    The audit row names the fields that changed; for the key, only "changed" or "removed". Call inside the
    client's context; the widget's cached configuration is dropped by the agent's post_save signal."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    with transaction.atomic():
        stored = Agent.objects.select_for_update().get(pk=agent.pk)
        changed = [field for field in AGENT_FIELDS if field in values and getattr(stored, field) != values[field]]
        for field in changed:
            setattr(stored, field, values[field])
        if texts is not None:
            merged = {**(stored.texts or {}), **texts}
            if _texts_key(merged) != _texts_key(stored.texts or {}):
                stored.texts = merged
                changed.append("texts")
        data: dict[str, Any] = {"changed": changed}
        if clear_api_key:
            if stored.api_key:
                stored.api_key = ""
                data["api_key"] = "removed"
        elif api_key and api_key != stored.api_key:
            stored.api_key = api_key
            data["api_key"] = "changed"
        if changed or "api_key" in data:
            stored.save()
            audit_record(action="agent.updated", actor=actor, target=stored.name, ip=ip,
                         data={"agent": stored.pk, **data})
    return stored


def agent_change(*, client: Client, agent_id: int, actor: Any, values: dict[str, Any],
                 texts: dict[str, dict[str, str]] | None = None, ip: str | None = None) -> Agent:
    """`agent_update` of the agent with this id in the active client's schema (the REST API's PATCH): NotFound for
    an id the client does not have, PermissionDenied for an actor who may not manage the client. Only AGENT_FIELDS
    are written; the caller has checked each value's type and range. `texts` are merged per language and key."""
    from apps.agents.selectors import agent_get

    unknown = set(values) - set(AGENT_FIELDS)
    if unknown:
        raise ValueError(f"not agent fields: {sorted(unknown)}")
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    agent = agent_get(agent_id=agent_id)
    if texts is not None:  # per language, the keys sent replace the stored ones; the others stay
        texts = {code: {**((agent.texts or {}).get(code) or {}), **values_of} for code, values_of in texts.items()}
    return agent_update(client=client, agent=agent, actor=actor, values=values, texts=texts, ip=ip)
