"""The spell corrector (issue 10): typos are corrected, correct words and other languages are not."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.knowledge.selectors import _vocabulary
from apps.knowledge.services import documents_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def vocabulary(cast):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Rendez-vous", "text": "Prenez rendez-vous en ligne ou par téléphone. "
                                "Nos horaires : du lundi au samedi."}], language="fr")
        documents_import(rows=[{"title": "Address", "text": "Our address is 12 Palm Street."}], language="en")
    return cast.client_a


@pytest.mark.parametrize("term", ["vendez", "adresse"])
def test_it_never_corrects_a_known_word(vocabulary, term):
    with tenant_context(vocabulary):
        corrections, _counts = _vocabulary([term], ["fr"])
    assert corrections == {}


def test_it_never_corrects_into_another_language(vocabulary):
    with tenant_context(vocabulary):
        assert _vocabulary(["adress"], ["fr"])[0] == {}
        assert _vocabulary(["adress"], ["en"])[0] == {"adress": ["address"], "adress\x00typo": ["address"]}


def test_it_still_corrects_a_typo(vocabulary):
    with tenant_context(vocabulary):
        corrections, _counts = _vocabulary(["horraires"], ["fr"])
    assert corrections["horraires"] == ["horaires"]


def test_it_scopes_an_uploaded_document_to_the_agents_chosen(cast, as_user):
    from django.urls import reverse

    from apps.knowledge.models import Document
    from tests.agents.conftest import make_agent

    agent = make_agent(cast.client_a)
    response = as_user(cast.alice, cast.client_a).post(reverse("knowledge"), {
        "kind": "text", "title": "Tarifs du cabinet", "language": "fr", "text": "Une consultation coûte 250 DH.",
        "agents": [agent.pk]})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        document = Document.objects.get(title="Tarifs du cabinet")
        assert list(document.agents.values_list("pk", flat=True)) == [agent.pk]


def test_no_two_concepts_share_a_stem():
    """A word belongs to one concept only: a stem two concepts share would file it under the first."""
    from apps.knowledge import selectors
    from apps.knowledge.text import normalise

    owner: dict[str, int] = {}
    clashes = []
    for index, words in enumerate(selectors.SUBJECTS):
        for word in words.split():
            stem = selectors._stem(normalise(word))
            if owner.setdefault(stem, index) != index:
                clashes.append((word, selectors.SUBJECTS[owner[stem]].split()[0]))
    assert clashes == []


def test_a_concepts_words_are_searched_in_the_questions_script():
    from apps.knowledge.selectors import _concept_words, _terms

    words = _concept_words(_terms("Mon chien peut venir ?"))
    assert "animaux" in words and "pets" in words and not any("\u0600" <= w[0] <= "\u06ff" for w in words)
    arabic = _concept_words(_terms("واش نقدر نجيب الكلب ديالي؟"))
    assert "الحيوانات" in arabic and all("\u0600" <= w[0] <= "\u06ff" for w in arabic)
    assert _concept_words(_terms("Quelle est la couleur du ciel ?")) != [] and _concept_words(_terms("zzz")) == []
