"""Answer quality of the built-in engine (issue 10): greetings, scoping, relevance floor, intents, phrasing."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.agents.engine import ToolCalled, TurnDone, turn_run
from apps.knowledge.services import documents_import

pytestmark = pytest.mark.django_db

HOURS = {
    "fr": ("Horaires", "Le cabinet est ouvert du lundi au vendredi de 9h à 18h."),
    "ar": ("أوقات العمل", "العيادة مفتوحة من الاثنين إلى الجمعة من الساعة 9 إلى الساعة 18."),
}


def say(client, conversation, text):
    events = turn_run(client=client, conversation_id=conversation.pk, text=text)
    return next(e for e in events if isinstance(e, TurnDone)).text, [e.name for e in events if isinstance(e, ToolCalled)]


@pytest.mark.parametrize("language, question", [("fr", "Bonjour, quels sont vos horaires ?"),
                                                ("ar", "مرحبا، ما هي أوقات العمل؟")])
def test_it_answers_the_question_after_a_greeting(cast, agent_a, start, language, question):
    title, text = HOURS[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text}], language=language)
    conversation = start(cast.client_a, agent_a, language)
    answer, tools = say(cast.client_a, conversation, question)
    assert tools == ["search_knowledge_base"]
    assert "9" in answer and "18" in answer and title in answer
    assert "bienvenue" not in answer
