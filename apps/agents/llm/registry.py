"""Provider name → class. Adding a provider: one module in this folder, its tests, one line here."""

from __future__ import annotations

from django.conf import settings

from apps.agents.llm.anthropic import AnthropicProvider
from apps.agents.llm.base import LLMProvider, ProviderConfig
from apps.agents.llm.openai_compatible import OpenAICompatibleProvider

PROVIDERS: dict[str, type] = {
    "openai_compatible": OpenAICompatibleProvider,
    "anthropic": AnthropicProvider,
}


def provider_for(agent: object) -> tuple[LLMProvider, ProviderConfig] | None:
    """The agent's language model and its configuration, or None for the built-in engine.

    Keys: the client's own key stored (encrypted) on the agent, else the agency's default from
    the environment. Without a key (and without a base URL for keyless local servers), None.
    """
    name = getattr(agent, "provider", "builtin")
    if name not in PROVIDERS:
        return None
    defaults = settings.LLM_DEFAULTS[name]
    api_key = getattr(agent, "api_key", "") or defaults["api_key"]
    base_url = getattr(agent, "base_url", "") or defaults["base_url"]
    if not api_key and not (name == "openai_compatible" and base_url):
        return None
    config = ProviderConfig(model=getattr(agent, "model", "") or defaults["model"], api_key=api_key,
                            base_url=base_url, temperature=float(getattr(agent, "temperature", 0.3)),
                            timeout_s=settings.LLM_TIMEOUT_S)
    return PROVIDERS[name](), config
