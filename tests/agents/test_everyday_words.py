"""The built-in agent answers questions written in visitors' own words (apps.knowledge.lexicon): synonyms
across five languages, verb forms of Darija, a part of the day, a count, SMS abbreviations, a worry and a
"where exactly" — and still says it does not know what no document says. The documents below are a
bicycle-hire and guesthouse business of this module's own, not the answer bench's."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.agents.builtin import nlu
from apps.knowledge.services import documents_import
from tests.agents.conftest import documents_load
from tests.agents.test_answers import say

pytestmark = pytest.mark.django_db

DOCUMENTS = {
    "fr": [("Horaires", "La maison est ouverte du lundi au vendredi de 9h à 19h et le samedi de 9h à 12h. "
                        "Elle est fermée le dimanche."),
           ("Chambres", "La maison compte 8 chambres sur deux étages. Une chambre simple coûte 500 dirhams la nuit."),
           ("Vélo de remplacement", "Un vélo de remplacement est prêté pendant les réparations de plus d'un jour."),
           ("Adresse", "Nous sommes au 5 rue des Potiers, quartier Fès Jdid, à Fès."),
           ("Arrivée", "L'arrivée se fait à partir de 15h. Une arrivée tardive est possible jusqu'à 23h si vous "
                       "nous prévenez."),
           ("Sans réservation", "Nous louons les vélos avec ou sans réservation, selon les vélos libres.")],
    "en": [("Opening hours", "The house is open Monday to Friday from 9 am to 7 pm and on Saturday from 9 am to "
                             "noon. It is closed on Sunday."),
           ("Rooms", "The house has 8 rooms on two floors. A single room costs 500 dirhams a night."),
           ("Replacement bike", "A courtesy bike is lent during repairs that take more than a day."),
           ("Arrival", "Check-in is from 3 pm. Late arrival is possible until 11 pm if you let us know.")],
    "es": [("Bicicleta de sustitución", "Prestamos una bicicleta de sustitución durante las reparaciones de más "
                                        "de un día."),
           ("Horario", "La casa abre de lunes a viernes de 9:00 a 19:00 y el sábado de 9:00 a 12:00.")],
    "ary": [("العشا", "العشا كاين بالحجز ب 150 درهم للواحد."),
            ("فين كاينين", "كاينين ف 5 زنقة الفخارين، فاس الجديد، ففاس.")],
}


@pytest.fixture
def documents(cast):
    documents_load(cast.client_a, DOCUMENTS)


@pytest.mark.parametrize("language, question, fact", [
    ("en", "can I borrow a bike while you fix mine?", "courtesy bike"),
    ("es", "¿Me pueden dejar una bici mientras arreglan la mía?", "bicicleta de sustitución"),
    ("fr", "Vous êtes ouverts le samedi après-midi ?", "samedi de 9h à 12h"),
    ("fr", "vs êtes ouverts le samedi aprem ?", "samedi de 9h à 12h"),
    ("es", "¿Abren el sábado por la tarde?", "sábado de 9:00 a 12:00"),
    ("en", "how many bedrooms are there?", "8 rooms"),
    ("fr", "slt, vs avez cb de chambres en tout ?", "8 chambres"),
    ("fr", "on peut louer sans rdv ?", "sans réservation"),
    ("en", "is it a problem if we get in around 10pm?", "11 pm"),
    ("fr", "Est-ce grave si on arrive vers 22h ?", "23h"),
    ("ary", "واش نقدرو نتعشاو عندكم؟", "150 درهم"),
    ("ary", "واش كتعشيو الناس عندكم؟", "150 درهم"),
    ("ary", "فين جايين بالضبط؟", "زنقة الفخارين"),
    ("fr", "C'est où précisément ?", "rue des Potiers"),
])
def test_it_answers_a_question_in_the_visitors_words(cast, agent_a, start, documents, language, question, fact):
    answer, tools = say(cast.client_a, start(cast.client_a, agent_a, language), question)
    assert tools == ["search_knowledge_base"], answer
    assert fact in answer


@pytest.mark.parametrize("language, question", [
    ("en", "Do you sell used bikes?"),
    ("fr", "Vous faites des visites guidées le samedi après-midi ?"),
    ("ary", "واش كتكريو الطوموبيلات؟"),
])
def test_it_still_says_it_does_not_know(cast, agent_a, start, documents, language, question):
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, language), question)
    with translation.override(language):
        assert answer == _("I don't have that information. I can put you in touch with our team or take a message: "
                           "what would you prefer?")  # client A's plan has no callbacks


@pytest.mark.parametrize("language, text, ticket", [
    ("en", "We land late, around 11pm, can we still check in?", False),
    ("en", "is it a problem if I pay by cheque?", False),
    ("fr", "C'est grave si on arrive en retard ?", False),
    ("es", "¿Pasa algo si llegamos tarde?", False),
    ("en", "My bike is broken, can you fix it?", True),
    ("fr", "Mon vélo ne marche pas, vous pouvez le réparer ?", True),
])
def test_a_worry_or_a_permission_question_opens_no_ticket(language, text, ticket):
    found = nlu.refine_intents(nlu.intents(text, language), text, language, has_when=False)
    assert ("ticket" in found) is ticket


@pytest.mark.parametrize("language, text", [
    ("en", "do I need to book ahead or can I just walk in?"),
    ("es", "¿Puedo ir sin pedir cita?"),
    ("fr", "Faut-il réserver à l'avance ?"),
])
def test_asking_whether_a_booking_is_needed_opens_no_booking(language, text):
    found = nlu.refine_intents(nlu.intents(text, language), text, language, has_when=False)
    assert "book" not in found


def test_an_sms_booking_request_books(cast, agent_a, start):
    answer, tools = say(cast.client_a, start(cast.client_a, agent_a, "fr"), "slt, je voudrais un rdv jeudi à 15h stp")
    assert tools == ["check_availability"], answer


def test_a_darija_question_is_answered_from_the_darija_document_that_answers(cast, agent_a, start):
    """The Arabic FAQ holds more of the question's words through the concepts ("نبيع", "بطاقات", "هدايا"), but
    the Darija document answers too: the reply is in Darija."""
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "الهدايا", "text": "نبيع في المتجر بطاقات هدايا بقيمة 300 درهم."}],
                         language="ar")
        documents_import(rows=[{"title": "الكادو", "text": "كاينين كارطات ديال الكادو ب 300 درهم فالمحل."}],
                         language="ary")
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, "ary"), "واش كتبيعو الكارطات ديال الكادو؟")
    assert "الكادو" in answer
