"""Searches kept in the process while the knowledge base does not change (apps/knowledge/search_cache.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from apps.knowledge import search_cache
from apps.knowledge.models import Document
from apps.knowledge.selectors import knowledge_search
from apps.knowledge.services import document_agents_set, documents_import

pytestmark = pytest.mark.django_db

QUESTION = "Le parking est gratuit ?"


def _commit() -> None:
    """What the commit of the test's changes does: the knowledge base's callbacks run, and leave the list."""
    waiting = [entry for entry in connection.run_on_commit if isinstance(entry[1], search_cache._Changed)]
    connection.run_on_commit[:] = [entry for entry in connection.run_on_commit if entry not in waiting]
    for _savepoints, callback, _robust in waiting:
        callback()


@pytest.fixture
def parking(cast):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Parking", "text": "Le parking derrière le cabinet est gratuit."},
                               {"title": "Horaires", "text": "Ouvert du lundi au vendredi de 9 h à 18 h."}],
                         language="fr")
        _commit()
    return cast.client_a


def test_it_answers_the_same_search_again_without_a_statement(parking, django_assert_num_queries):
    with tenant_context(parking):
        first = knowledge_search(query=QUESTION, language="fr")
        assert first and first[0].title == "Parking"
        with django_assert_num_queries(0):
            assert knowledge_search(query=QUESTION, language="fr") == first
        with django_assert_num_queries(2):  # other arguments: searched
            assert knowledge_search(query=QUESTION, language="fr", limit=1) == first[:1]


def test_a_transaction_that_changed_the_knowledge_base_reads_its_own_rows(parking):
    with tenant_context(parking):
        assert knowledge_search(query=QUESTION, language="fr")
        Document.objects.filter(title="Parking").first().delete()
        assert knowledge_search(query=QUESTION, language="fr") == []  # not what was kept before the change
        _commit()
        assert knowledge_search(query=QUESTION, language="fr") == []


def test_a_committed_change_is_seen_by_the_next_search(parking, django_assert_num_queries):
    with tenant_context(parking):
        assert knowledge_search(query=QUESTION, language="fr")
        assert knowledge_search(query="Vous êtes ouverts le samedi ?", language="fr")[0].title == "Horaires"
        documents_import(rows=[{"title": "Samedi", "text": "Le samedi, le cabinet est ouvert de 9 h à 12 h."}],
                         language="fr")
        _commit()
        assert knowledge_search(query="Vous êtes ouverts le samedi ?", language="fr")[0].title == "Samedi"


def test_an_agent_given_a_document_is_a_change(parking):
    from apps.agents.models import Agent

    with tenant_context(parking):
        first, other = (Agent.objects.create(name=name, languages=["fr"], default_language="fr")
                        for name in ("First", "Other"))
        _commit()
        assert knowledge_search(query=QUESTION, language="fr", agent_id=first.pk)
        document_agents_set(document=Document.objects.get(title="Parking"), agents=[other])
        _commit()
        assert knowledge_search(query=QUESTION, language="fr", agent_id=first.pk) == []


def test_another_client_never_gets_the_first_ones_results(parking, cast):
    with tenant_context(parking):
        assert knowledge_search(query=QUESTION, language="fr")
    with tenant_context(cast.client_b):
        assert knowledge_search(query=QUESTION, language="fr") == []
