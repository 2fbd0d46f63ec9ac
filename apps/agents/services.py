"""Agent writes from the dashboard: editing an agent (its own LLM key included, audited as changed, never stored in
the audit data)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from apps.agents.configurator import faq_rows, sector_defaults
from apps.agents.models import LANGUAGE_CODES, Agent
from apps.agents.sectors import sectors
from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.clients.services import manager_require
from apps.core.errors import InvalidInput

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


# What a change of sector keeps; the rest (texts, recommended tools, appointment length, starter FAQ) is the new
# sector's. Shown on the agent page next to the choice.
SECTOR_KEEPS = ("name", "status", "languages", "default_language", "business", "business_hours", "provider", "model",
                "base_url", "api_key", "temperature", "handover_phone", "handover_email")


def _starter_titles(code: str, agent: Agent) -> set[str]:
    """The titles the sector `code`'s starter FAQ gave this agent's documents, in every language."""
    draft = sector_defaults(code=code, agent=agent)
    titles = {item["q"][:200] for language in draft.languages for item in draft.faq[language]}
    for language in LANGUAGE_CODES:
        with translation.override(language):
            titles.add(_("Booking policy"))
    return titles


def agent_sector_change(*, client: Client, agent: Agent, actor: Any, sector: str, replace_faq: bool = True,
                        ip: str | None = None) -> Agent:
    """Give the agent another sector: its greeting, closing and instructions in each of its languages, its
    recommended tools and its appointment length become the new sector's, filled with the agent's business
    information and its stored opening hours. Kept: SECTOR_KEEPS, and every document the user added. With
    `replace_faq`, the old sector's starter FAQ (this agent's own documents, by their titles) gives way to the new
    one's. Owners and admins only; audited. Call inside the client's context."""
    from apps.knowledge.models import Document
    from apps.knowledge.services import document_delete, documents_import

    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    if sector not in sectors():
        raise InvalidInput(_("Unknown sector."))
    with transaction.atomic():
        stored = Agent.objects.select_for_update().get(pk=agent.pk)
        previous = stored.sector
        draft = sector_defaults(code=sector, agent=stored)
        languages = [code for code in stored.languages if code in draft.texts] or [stored.default_language]
        stored.sector = sector
        stored.texts = {code: draft.texts[code] for code in languages}
        stored.tools = [tool["name"] for tool in draft.tools]
        stored.appointment_minutes, stored.buffer_minutes = draft.appointment_minutes, draft.buffer_minutes
        stored.save()
        removed = added = 0
        if replace_faq:
            old_titles = _starter_titles(previous, stored)
            for document in Document.objects.filter(agents=stored, title__in=old_titles).prefetch_related("agents"):
                if [other.pk for other in document.agents.all()] == [stored.pk]:  # its own, not a shared one
                    document_delete(client=client, document=document, actor=actor, ip=ip)
                    removed += 1
            for code in languages:
                added += len(documents_import(rows=faq_rows(draft.faq[code], draft.booking_policy[code]),
                                              language=code, agents=[stored]))
        audit_record(action="agent.sector_changed", actor=actor, target=stored.name, ip=ip,
                     data={"agent": stored.pk, "from": previous, "to": sector, "faq_removed": removed,
                           "faq_added": added})
    return stored
