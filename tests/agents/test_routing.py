"""Which flow a message opens (issue 10, third round): a question about what would happen, about paying or
about being late asks for a rule and opens none; MSA written with words Darija shares stays MSA; a
greeting opened with "¡" is still a greeting. The cases that must keep their flow are here too."""

from __future__ import annotations

from datetime import date

import pytest

from apps.agents.builtin import nlu

TODAY = date(2026, 12, 2)


def _flows(text: str, language: str) -> set[str]:
    has_when = bool(nlu.extract_day(text, TODAY) or nlu.extract_time(text))
    found = nlu.refine_intents(nlu.intents(text, language), text, language, has_when=has_when)
    return found & {"book", "cancel", "reschedule", "ticket", "callback"}


@pytest.mark.parametrize("language, text", [
    ("en", "If I cancel the day before I arrive, what do I pay?"),
    ("fr", "Si j'annule la veille, je paie quoi ?"),
    ("es", "Si cancelo el día antes de llegar, ¿qué me cobran?"),
    ("ar", "إذا ألغيت الحجز قبل يوم، هل أدفع شيئا؟"),
    ("fr", "si je fais réparer chez vous, le diag est remboursé ?"),
    ("es", "¿Se paga al reservar o al llegar?"),
    ("ary", "نخلصو ملي نحجزو ولا ملي نجيو؟"),
    ("fr", "On paie à la réservation ou sur place ?"),
    ("fr", "jsuis en retard de 20 min pour mon rdv c grave ?"),
    ("en", "running 20 mins late for my appointment, is that ok?"),
    ("es", "llego 20 min tarde a mi cita, pasa algo?"),
    ("ar", "سأتأخر 20 دقيقة عن موعدي، هل هذه مشكلة؟"),
])
def test_a_question_about_what_would_happen_paying_or_being_late_opens_no_flow(language, text):
    assert _flows(text, language) == set()


@pytest.mark.parametrize("language, text, flow", [
    ("en", "I'm running late, can I move my appointment to 5pm tomorrow?", "reschedule"),
    ("fr", "Je veux annuler mon rendez-vous", "cancel"),
    ("es", "Sí, ¿tienen hueco el martes a las 10?", "book"),
    ("fr", "Si possible, un rendez-vous mardi à 10h ?", "book"),
    ("fr", "J'ai un problème avec ma facture", "ticket"),
    ("en", "Can I cancel my appointment RDV-ABC123 if I am late?", "cancel"),
])
def test_a_request_keeps_its_flow(language, text, flow):
    assert flow in _flows(text, language)


@pytest.mark.parametrize("text, language", [
    ("مرحبا، هل يمكننا البقاء في الغرفة حتى الساعة الواحدة بعد الظهر يوم المغادرة؟", "ar"),
    ("إذا أصلحت السيارة عندكم، هل يسترد ثمن التشخيص؟", "ar"),
    ("واش عندكم باركينغ حتى لليل؟", "ary"),
    ("بغيت نعرف شحال الثمن ديال الصباغة", "ary"),
])
def test_msa_with_words_darija_shares_stays_msa_and_darija_stays_darija(text, language):
    assert nlu.detect_language(text, "ar")[0] == language
    assert nlu.detect_language(text, "fr")[0] == language


def test_a_greeting_opened_with_an_inverted_mark_leaves_the_question():
    text = "¡Hola! ¿El día de la salida podemos quedarnos en la habitación hasta la una?"
    assert nlu.without_greeting(text) == "¿El día de la salida podemos quedarnos en la habitación hasta la una?"
