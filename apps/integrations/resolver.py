"""The one answer to "which provider serves this client for this kind":

    plan allows it?  →  the client's own connected account  →  the agency default (environment)  →  the twin

`provider_for(kind, client=…)` returns a `Resolved` (the provider, its name, where it came from). Language
models are chosen per agent, so `llm_for(client=…, agent=…)` applies the same order to the agent's provider
and answers the engine's (provider, ProviderConfig), or None for the built-in engine.

Accounts are read from the client's schema. Async callers (the voice consumer) pass `accounts=` rows they
loaded on the database thread, or `accounts=()` for "agency default or twin" without touching the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django_tenants.utils import tenant_context

from apps.core.errors import ProviderError
from apps.integrations.llm.base import LLMProvider, ProviderConfig
from apps.integrations.registry import FEATURES, PROVIDERS, TWINS, provider_class

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolved:
    kind: str
    name: str
    source: str  # "account" (the client's own), "default" (the agency's), "twin" (offline)
    provider: Any
    settings: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_twin(self) -> bool:
        return self.source == "twin"


def agency_default(kind: str) -> tuple[str, dict[str, Any]] | None:
    """The agency's provider for `kind` and its settings, from the environment (docs/operations.md); None when
    the agency has configured none (or without its key). Read at call time: override_settings works."""
    voice = settings.VOICE
    if kind == "stt":
        name = settings.VOICE_STT
        if name == "deepgram" and voice["deepgram_api_key"]:
            return name, {"api_key": voice["deepgram_api_key"], "model": voice["deepgram_model"]}
        if name == "openai" and voice["openai_api_key"]:
            return name, {"api_key": voice["openai_api_key"], "model": voice["openai_stt_model"],
                          "base_url": voice["openai_base_url"]}
        return None
    if kind == "tts":
        name = settings.VOICE_TTS
        if name == "openai" and voice["openai_api_key"]:
            return name, {"api_key": voice["openai_api_key"], "model": voice["openai_tts_model"],
                          "voice": voice["openai_tts_voice"], "base_url": voice["openai_base_url"]}
        if name == "elevenlabs" and voice["elevenlabs_api_key"]:
            return name, {"api_key": voice["elevenlabs_api_key"], "voice": voice["elevenlabs_voice_id"]}
        return None
    if kind == "email":
        return "agency", {}  # Django's EMAIL_* settings (console by default)
    if kind == "billing":
        key = settings.STRIPE_LIVE_SECRET_KEY if settings.STRIPE_LIVE_MODE else settings.STRIPE_TEST_SECRET_KEY
        return ("stripe", {"api_key": key}) if key else None
    configured = settings.INTEGRATIONS_DEFAULTS.get(kind)
    if configured and configured.get("provider") in PROVIDERS[kind]:
        return configured["provider"], dict(configured.get("settings") or {})
    return None


def plan_allows(kind: str, client: Any) -> bool:
    from apps.clients.entitlements import client_may

    feature = FEATURES[kind]
    return client is None or feature is None or client_may(client, feature)


def accounts_enabled(*, client: Any) -> list[Any]:
    """The client's enabled connected accounts (one query, in the client's schema)."""
    from apps.integrations.models import ConnectedAccount

    if connection.schema_name == client.schema_name:
        return list(ConnectedAccount.objects.filter(enabled=True))
    with tenant_context(client):
        return list(ConnectedAccount.objects.filter(enabled=True))


def _own_account(kind: str, client: Any, accounts: Iterable[Any] | None, provider: str | None = None) -> Any:
    if client is None:
        return None
    rows = accounts_enabled(client=client) if accounts is None else accounts
    for account in rows:
        if account.kind == kind and account.enabled and (provider is None or account.provider == provider) \
                and account.provider in PROVIDERS[kind]:
            return account
    return None


def _credentials(account: Any) -> dict[str, Any] | None:
    try:
        return account.credentials
    except ImproperlyConfigured:
        logger.error("connected account %s does not decrypt; using the next provider", account)
        return None


def _build(kind: str, name: str, values: dict[str, Any], source: str) -> Resolved | None:
    try:
        provider = provider_class(kind, name).from_settings(values)
    except ProviderError as error:
        logger.warning("%s provider %s (%s) cannot be built: %s", kind, name, source, error.message)
        return None
    return Resolved(kind=kind, name=name, source=source, provider=provider, settings=values)


def provider_for(kind: str, *, client: Any, accounts: Iterable[Any] | None = None) -> Resolved:
    """This client's provider for `kind` (client None: the agency default or the twin, no plan check)."""
    if kind not in PROVIDERS:
        raise KeyError(f"unknown provider kind {kind!r}")
    if kind == "llm":
        raise ValueError("language models are chosen per agent: use llm_for(client=…, agent=…)")
    if plan_allows(kind, client):
        account = _own_account(kind, client, accounts)
        values = _credentials(account) if account is not None else None
        if account is not None and values is not None:
            resolved = _build(kind, account.provider, values, "account")
            if resolved is not None:
                return resolved
        default = agency_default(kind)
        if default is not None:
            resolved = _build(kind, default[0], default[1], "default")
            if resolved is not None:
                return resolved
    twin = TWINS[kind]
    return Resolved(kind=kind, name=twin, source="twin", provider=provider_class(kind, twin).from_settings({}))


def llm_for(*, client: Any, agent: Any, accounts: Iterable[Any] | None = None
            ) -> tuple[LLMProvider, ProviderConfig] | None:
    """The agent's language model and its configuration, or None for the built-in engine.

    Each setting: the agent's own (its key is stored encrypted on it), else the client's connected account for
    that provider, else the agency's default from the environment. Without a key (and without a base URL for
    keyless local servers), None.
    """
    name = getattr(agent, "provider", TWINS["llm"])
    if name == TWINS["llm"] or name not in PROVIDERS["llm"] or not plan_allows("llm", client):
        return None
    own = _credentials(account) if (account := _own_account("llm", client, accounts, provider=name)) else None
    own = own or {}
    defaults = settings.LLM_DEFAULTS[name]

    def pick(key: str) -> str:
        return str(getattr(agent, key, "") or own.get(key) or defaults[key] or "")

    api_key, base_url = pick("api_key"), pick("base_url")
    if not api_key and not (name == "openai_compatible" and base_url):
        return None
    agency_pays = bool(api_key) and not (getattr(agent, "api_key", "") or own.get("api_key"))
    config = ProviderConfig(model=pick("model"), api_key=api_key, base_url=base_url,
                            temperature=float(getattr(agent, "temperature", 0.3)), timeout_s=settings.LLM_TIMEOUT_S,
                            agency_pays=agency_pays)
    return provider_class("llm", name).from_settings({}), config


@lru_cache(maxsize=1)
def builtin_recognizer() -> Any:
    """One offline recogniser per process: its decoders load a 30 MB model each."""
    return provider_class("stt", TWINS["stt"])()
