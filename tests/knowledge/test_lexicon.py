"""The everyday vocabulary of visitors' questions (apps.knowledge.lexicon): abbreviations, concepts across
languages, Arabic light stems, parts of the day, counts and words that say nothing of the subject.
The examples are this module's own, not the answer bench's."""

from __future__ import annotations

import pytest

from apps.knowledge import selectors
from apps.knowledge.lexicon import arabic_cores, expand_abbreviations, merge_concepts
from apps.knowledge.selectors import _confidence, _subject, _terms, answer_sentences
from apps.knowledge.text import normalise


@pytest.mark.parametrize("language, text, expanded", [
    ("fr", "slt vs avez cb de places ?", "salut vous avez combien de places ?"),
    ("fr", "c quand le prochain rdv dispo stp", "c'est quand le prochain rendez-vous disponible svp"),
    ("fr", "vous prenez la cb ?", "vous prenez la carte ?"),
    ("en", "can u tell me ur hrs pls", "can you tell me your hours please"),
    ("en", "how much 4 a trim", "how much for a trim"),
    ("en", "we are 4 people", "we are 4 people"),
    ("es", "q precio tiene xfa", "que precio tiene por favor"),
])
def test_sms_abbreviations_are_read_as_their_words(language, text, expanded):
    assert expand_abbreviations(text, language) == expanded


def test_an_ambiguous_abbreviation_is_read_only_in_its_language():
    assert expand_abbreviations("c ouvert ?", "fr") == "c'est ouvert ?"
    assert expand_abbreviations("plan c", "en") == "plan c"  # no "c'est" in English
    assert expand_abbreviations("u ok", "fr") == "u ok"


@pytest.mark.parametrize("one, other", [
    ("نتعشاو", "العشا"),      # Darija "we dine" / "the dinner"
    ("كتعشيو", "العشاء"),     # "you serve dinner" / MSA "the dinner"
    ("السيارات", "سيارة"),    # plural with article / singular
    ("كنصلحو", "تصلحو"),      # two persons of "repair"
    ("بالكارط", "الكارط"),    # "by card" / "the card"
])
def test_arabic_forms_of_a_word_share_a_light_stem(one, other):
    assert arabic_cores(normalise(one)) & arabic_cores(normalise(other))


@pytest.mark.parametrize("one, other", [("بيت", "بيسين"), ("كاين", "اين"), ("الفطور", "الفاتوره")])
def test_different_arabic_words_share_no_light_stem(one, other):
    assert not arabic_cores(normalise(one)) & arabic_cores(normalise(other))


def test_a_concept_sharing_a_word_extends_its_line_and_a_new_one_is_added():
    merged = merge_concepts(["chien dog", "prix price"], ["dog perro", "velo bike"], normalise)
    assert merged == ["chien dog perro", "prix price", "velo bike"]


@pytest.mark.parametrize("question, document_words", [
    ("can I borrow a car while you repair mine?", "a courtesy vehicle is offered during repairs"),
    ("Vous me prêtez une auto ?", "un véhicule de remplacement est proposé"),
    ("¿Me prestan un coche?", "ofrecemos un vehículo de sustitución"),
    ("هل تعطون سيارة بديلة؟", "نوفر طوموبيل ديال السلف"),
    ("On peut se baigner ?", "une piscine chauffée"),
    ("can kids come?", "children are welcome"),
    ("¿Se puede fumar?", "prohibido fumar en las habitaciones"),
])
def test_a_subject_named_in_other_words_is_found(question, document_words):
    terms = _terms(question)
    assert _confidence(_subject(terms), {}, normalise(document_words)) >= selectors.MIN_CONFIDENCE


@pytest.mark.parametrize("question", [
    "where is it exactly?", "فين جاي بالضبط؟", "¿dónde está exactamente?", "c'est où précisément ?"])
def test_precision_words_leave_a_where_question_its_subject(question):
    subject = _subject(_terms(question))
    assert _confidence(subject, {}, normalise("12 rue des Oliviers, Fès. 12 Olive Street. calle Olivo 12. "
                                              "12 زنقة الزيتون")) == 1.0


@pytest.mark.parametrize("question, passage", [
    ("Vous êtes ouverts le samedi après-midi ?", "Ouvert du lundi au vendredi de 9h à 17h et le samedi de 9h à 12h."),
    ("are you open on sunday morning?", "Open Monday to Saturday 9 am to 5 pm, and Sunday from 10 am to 1 pm."),
    ("واش محلولين نهار السبت فالعشية؟", "محلول من الاتنين حتى الجمعة من 9:00 حتى 17:00 ونهار السبت من 9:00 حتى 12:00."),
])
def test_a_part_of_the_day_is_answered_by_that_days_hours(question, passage):
    subject = _subject(_terms(question))
    assert _confidence(subject, {}, normalise(passage)) == 1.0
    # without a time in the passage, the part of the day is not answered
    assert _confidence(subject, {}, normalise("Le samedi, nous proposons des ateliers.")) < 1.0


def test_a_time_asked_is_answered_by_a_passage_giving_times():
    subject = _subject(_terms("We arrive around 11pm, can we still check in?"))
    assert _confidence(subject, {}, normalise("Check-in is from 2 pm; late arrival until midnight.")) == 1.0
    assert _confidence(subject, {}, normalise("Check-in is at the front desk.")) < 1.0


@pytest.mark.parametrize("question, fact", [
    ("how many tables do you have?", "40 tables"),
    ("¿cuántas mesas tienen?", "40 mesas"),
    ("combien de tables en tout ?", "40 tables"),
    ("كم عدد الطاولات؟", "40 طاولة"),
])
def test_a_count_is_answered_by_the_sentence_with_the_number(question, fact):
    passage = {"en": "Our terrace is open in summer. The restaurant has 40 tables. Every table is free for lunch.",
               "es": "La terraza abre en verano. El restaurante tiene 40 mesas. Todas las mesas son para comer.",
               "fr": "La terrasse ouvre l'été. Le restaurant compte 40 tables. Toutes les tables sont en terrasse.",
               "ar": "الشرفة مفتوحة صيفا. يضم المطعم 40 طاولة. كل الطاولات متاحة للغداء."}
    language = "ar" if "\u0600" <= question[0] <= "\u06ff" else "es" if "¿" in question else (
        "fr" if "combien" in question else "en")
    assert fact in answer_sentences(passage[language], question, limit=1)


def test_words_saying_nothing_of_the_subject_are_not_its_subject():
    assert _subject(_terms("is it a problem if I pay by cheque?")) == ["pay", "cheque"]
    assert "نقدرو" not in _terms("واش نقدرو نتعشاو عندكم؟")
    assert _subject(_terms("¿Me pueden prestar un coche mientras arreglan el mío?")) == ["prestar", "coche", "arreglan"]


@pytest.mark.parametrize("question", ["how many rooms do you have?", "¿cuántos cuartos hay?", "كم عدد الغرف؟"])
def test_how_many_is_answered_by_a_passage_with_a_number(question):
    subject = _subject(_terms(question))
    with_number = normalise("The riad has 12 rooms. El riad tiene 12 habitaciones. يضم الرياض 12 غرفة.")
    without = normalise("Every room has a view. Todas las habitaciones dan al patio. كل الغرف تطل على الفناء.")
    assert _confidence(subject, {}, with_number) == 1.0
    assert _confidence(subject, {}, without) < selectors.MIN_CONFIDENCE or "many" not in subject


def test_an_arabic_form_of_the_business_kind_is_the_business_not_the_subject():
    """The riad sector's name says "والرياضات": "فالرياض" and "الرياض" in a question say where, not what."""
    own = selectors.business_words("Riad Dar Zitoun", "الفنادق والرياضات ودور الضيافة")
    assert _subject(_terms("واش كتعشيو الناس فالرياض؟", own), own) == ["كتعشيو"]
    assert _subject(_terms("هل يمكن تناول العشاء في الرياض؟", own), own) == ["العشاء"]


def test_a_where_question_searches_the_words_of_a_street():
    from apps.knowledge.selectors import _subject_words

    assert {"calle", "derb", "avenida"} <= set(_subject_words(_terms("¿Dónde están ubicados exactamente?")))


@pytest.mark.parametrize("question", ["how long does the warranty last?", "La garantie dure combien de temps ?",
                                      "¿Cuánto dura la garantía?", "شحال كتدوم الضمانة؟"])
def test_how_long_is_answered_by_a_passage_with_a_duration(question):
    subject = _subject(_terms(question))
    assert _confidence(subject, {}, normalise("Warranty: 12 months. Garantie : 12 mois. Garantía: 12 meses. "
                                              "الضمانة 12 شهر.")) == 1.0
    assert _confidence(subject, {}, normalise("The warranty covers parts. La garantie couvre les pièces. "
                                              "La garantía cubre las piezas. الضمانة كتغطي البياسات.")) < 1.0


def test_please_written_out_or_abbreviated_says_nothing_of_the_subject():
    assert _subject(_terms(expand_abbreviations("Combien pour un balayage svp ?", "fr"))) == ["balayage"]
    assert _subject(_terms("Combien pour un balayage s'il vous plaît ?")) == ["balayage"]
