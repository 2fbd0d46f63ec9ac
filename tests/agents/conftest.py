from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.conversations.services import conversation_start

ALL_TOOLS = list(TOOLS)


def documents_load(client, by_language):
    """Imports {language: [(title, text), …]} into the client's knowledge base, one import a language."""
    from apps.knowledge.services import documents_import

    with tenant_context(client):
        for language, rows in by_language.items():
            documents_import(rows=[{"title": title, "text": text} for title, text in rows], language=language)


def make_agent(client, **fields):
    defaults = {"name": "Reception", "languages": ["fr", "en", "es", "ar", "ary"], "default_language": "fr",
                "tools": ALL_TOOLS, "business": {"business_name": "Alpha"},
                "texts": {"fr": {"greeting": "Bonjour, bienvenue chez {business_name} !", "closing": "À bientôt !"},
                          "en": {"greeting": "Hello, welcome to {business_name}!", "closing": "Goodbye!"}},
                "handover_phone": "+33100000000"}
    defaults.update(fields)
    with tenant_context(client):
        return Agent.objects.create(**defaults)


@pytest.fixture
def agent_a(cast):
    return make_agent(cast.client_a)


@pytest.fixture
def start(cast):
    def begin(client, agent, language="fr", channel="widget_text"):
        with tenant_context(client):
            return conversation_start(agent=agent, channel=channel, language=language)
    return begin
