"""Reads, in the active client's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from apps.integrations import registry
from apps.integrations.base import KINDS
from apps.integrations.models import KIND_LABELS, ConnectedAccount, Delivery
from apps.integrations.resolver import plan_allows, provider_for


def deliveries_recent(*, limit: int = 500, purpose: str | None = None) -> QuerySet[Delivery]:
    rows = Delivery.objects.all()
    if purpose is not None:
        rows = rows.filter(purpose=purpose)
    return rows[:limit]


@dataclass(frozen=True)
class ProviderPanel:
    name: str
    label: str
    fields: list[dict[str, Any]]  # {"name", "label", "secret", "required", "placeholder", "value", "saved"}
    account: ConnectedAccount | None


@dataclass(frozen=True)
class KindPanel:
    kind: str
    label: str
    allowed: bool  # the plan allows anything but the built-in provider
    in_use: str  # provider label
    source: str  # "account", "default", "twin"; for llm: per provider (see providers' `source`)
    providers: list[ProviderPanel]
    sources: dict[str, str]  # llm: provider name -> "account" | "default" | "twin"


def _source_llm(name: str, account: ConnectedAccount | None) -> str:
    from django.conf import settings

    if account is not None and account.enabled:
        return "account"
    defaults = settings.LLM_DEFAULTS.get(name) or {}
    return "default" if defaults.get("api_key") or (name == "openai_compatible" and defaults.get("base_url")) \
        else "twin"


def integrations_overview(*, client: Any) -> list[KindPanel]:
    """One panel per kind with a provider a client may connect: what is in use and why, and a form per
    provider whose secrets are never read back (only whether one is saved)."""
    accounts = {(account.kind, account.provider): account for account in ConnectedAccount.objects.all()}
    enabled = [account for account in accounts.values() if account.enabled]
    panels = []
    for kind in KINDS:
        connectable = [name for name in registry.provider_names(kind)
                       if registry.provider_class(kind, name).connectable
                       and not registry.provider_class(kind, name).offline]
        if not connectable:
            continue
        providers = []
        for name in connectable:
            cls = registry.provider_class(kind, name)
            account = accounts.get((kind, name))
            stored = _safe_credentials(account)
            providers.append(ProviderPanel(name=name, label=str(cls.label), account=account, fields=[
                {"name": field.name, "label": field.label, "secret": field.secret, "required": field.required,
                 "placeholder": field.placeholder, "saved": bool(stored.get(field.name)),
                 "value": "" if field.secret else stored.get(field.name, "")}
                for field in cls.fields]))
        if kind == "llm":
            sources = {name: _source_llm(name, accounts.get((kind, name))) for name in connectable}
            panels.append(KindPanel(kind=kind, label=str(KIND_LABELS[kind]), allowed=plan_allows(kind, client),
                                    in_use="", source="", providers=providers, sources=sources))
            continue
        resolved = provider_for(kind, client=client, accounts=enabled)
        label = registry.provider_class(kind, resolved.name).label
        panels.append(KindPanel(kind=kind, label=str(KIND_LABELS[kind]), allowed=plan_allows(kind, client),
                                in_use=str(label), source=resolved.source, providers=providers, sources={}))
    return panels


def _safe_credentials(account: ConnectedAccount | None) -> dict[str, Any]:
    if account is None:
        return {}
    try:
        return account.credentials
    except ImproperlyConfigured:
        return {}


def builtin_kinds(*, client: Any) -> list[tuple[str, str, str]]:
    """The kinds served by their offline twin only so far: (kind label, provider label, source)."""
    rows = []
    for kind in KINDS:
        if kind == "llm" or any(registry.provider_class(kind, name).connectable
                                and not registry.provider_class(kind, name).offline
                                for name in registry.provider_names(kind)):
            continue
        resolved = provider_for(kind, client=client, accounts=())
        rows.append((str(KIND_LABELS[kind]), str(registry.provider_class(kind, resolved.name).label),
                     resolved.source))
    return rows
