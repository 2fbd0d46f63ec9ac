"""Answer quality of the built-in engine (issue 10): greetings, scoping, relevance floor, intents, phrasing."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.agents.configurator import BusinessInfo, agent_create_from_draft, configure
from apps.agents.engine import ToolCalled, TurnDone, turn_run
from apps.clients.models import Client, Plan
from apps.conversations.models import Message
from apps.knowledge.models import Document
from apps.knowledge.services import documents_import
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db

HOURS = {
    "fr": ("Horaires", "Le cabinet est ouvert du lundi au vendredi de 9h à 18h."),
    "ar": ("أوقات العمل", "العيادة مفتوحة من الاثنين إلى الجمعة من الساعة 9 إلى الساعة 18."),
}


def say(client, conversation, text):
    events = turn_run(client=client, conversation_id=conversation.pk, text=text)
    answer = next(e for e in events if isinstance(e, TurnDone)).text
    return answer, [e.name for e in events if isinstance(e, ToolCalled)]


def source(client, conversation):
    """The document the agent's last reply was taken from, as kept for the dashboard."""
    with tenant_context(client):
        reply = conversation.messages.filter(role=Message.Role.ASSISTANT).order_by("-id").first()
        return (reply.metadata.get("source") or {}).get("document")


@pytest.mark.parametrize("language, question", [("fr", "Bonjour, quels sont vos horaires ?"),
                                                ("ar", "مرحبا، ما هي أوقات العمل؟")])
def test_it_answers_the_question_after_a_greeting(cast, agent_a, start, language, question):
    title, text = HOURS[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text}], language=language)
    conversation = start(cast.client_a, agent_a, language)
    answer, tools = say(cast.client_a, conversation, question)
    assert tools == ["search_knowledge_base"]
    assert "9" in answer and "18" in answer and source(cast.client_a, conversation) == title
    assert "bienvenue" not in answer


def test_it_keeps_another_agents_documents_out_of_its_answers(cast, agent_a, start):
    """A hair salon's agent added to the dental client does not answer with the clinic's hours."""
    salon = make_agent(cast.client_a, name="Salon", business={"business_name": "Salon Belle"})
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Horaires du cabinet", "text": "Le cabinet dentaire est ouvert du lundi au "
                                "vendredi de 9h à 18h."}], language="fr", agents=[agent_a])
        documents_import(rows=[{"title": "Paiement", "text": "Nous acceptons les cartes bancaires et les espèces."}],
                         language="fr")
    answer, _tools = say(cast.client_a, start(cast.client_a, salon, "fr"), "Quels sont vos horaires ?")
    assert "18h" not in answer and "cabinet" not in answer
    with translation.override("fr"):
        assert answer == _("I don't have that information. I can put you in touch with our team or take a message: "
                           "what would you prefer?")
    conversation = start(cast.client_a, salon, "fr")
    shared, _tools = say(cast.client_a, conversation, "Vous acceptez les cartes bancaires ?")
    assert shared == "Nous acceptons les cartes bancaires et les espèces."
    assert source(cast.client_a, conversation) == "Paiement"
    conversation = start(cast.client_a, agent_a, "fr")
    own, _tools = say(cast.client_a, conversation, "Quels sont vos horaires ?")
    assert "9h à 18h" in own and source(cast.client_a, conversation) == "Horaires du cabinet"


def test_it_gives_an_agent_made_by_the_configurator_its_own_faq(cast):
    with tenant_context(cast.client_a):
        draft = configure(BusinessInfo(name="Dr Alami", description="Cabinet dentaire à Rabat", hours="9h-18h",
                                       language="fr"))
        agent = agent_create_from_draft(draft=draft, languages=["fr"])
        documents = Document.objects.filter(agents=agent)
        assert documents.count() > 0
        assert Document.objects.filter(agents__isnull=True).count() == 0


UNANSWERABLE = {
    "fr": ("Vous faites des cartes cadeaux ?", "Horaires", "Le salon est ouvert du mardi au samedi de 9h à 19h. "
           "Paiement par carte bancaire ou en espèces."),
    "en": ("Do you sell gift cards?", "Opening hours", "The salon is open Tuesday to Saturday from 9am to 7pm. "
           "We take bank cards and cash."),
    "es": ("¿Venden tarjetas regalo?", "Horario", "El salón abre de martes a sábado de 9 a 19 h. "
           "Aceptamos tarjeta y efectivo."),
    "ar": ("هل تبيعون بطاقات الهدايا؟", "أوقات العمل", "الصالون مفتوح من الثلاثاء إلى السبت من 9 إلى 19. "
           "نقبل البطاقات البنكية والنقد."),
    "ary": ("واش كتبيعو كارطات ديال الكادو؟", "الوقت ديال الخدمة", "الصالون محلول من التلات حتى السبت من 9 حتى 7 "
            "ديال العشية. كنقبلو الكارط البنكية والكاش."),
}


@pytest.mark.parametrize("language", list(UNANSWERABLE))
def test_it_says_it_does_not_know_and_offers_help(cast, agent_a, start, language):
    question, title, text = UNANSWERABLE[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text}], language=language)
    answer, tools = say(cast.client_a, start(cast.client_a, agent_a, language), question)
    assert tools == ["search_knowledge_base"]
    with translation.override(language):  # client A's plan has no callbacks: it offers the team or a message
        expected = _("I don't have that information. I can put you in touch with our team or take a message: "
                     "what would you prefer?")
    assert answer == expected
    assert expected != "I don't have that information. I can put you in touch with our team or take a message: " \
        "what would you prefer?" or language == "en"


def test_a_plan_with_callbacks_offers_one_when_it_does_not_know(cast, agent_a, start):
    client = Client.objects.select_related("plan").get(pk=cast.client_a.pk)
    client.plan = Plan.objects.get(code="telephony")
    assert "outbound_calls" in client.plan.features
    answer, _tools = say(client, start(client, agent_a, "fr"), "Vous faites des cartes cadeaux ?")
    with translation.override("fr"):
        assert answer == _("I don't have that information. I can put you in touch with our team, arrange a callback "
                           "or take a message: what would you prefer?")


POLICY = {
    "en": ("Cancellation policy", "Appointments can be cancelled free of charge up to 24 hours before.",
           "What is your cancellation policy?"),
    "fr": ("Tarifs", "Une consultation coûte 300 dirhams.", "Combien coûte une consultation ?"),
    "es": ("Política de cancelación", "Puede cancelar sin coste hasta 24 horas antes.",
           "¿Cuál es la política de cancelación?"),
    "ar": ("سياسة الإلغاء", "يمكن إلغاء الموعد مجانا قبل 24 ساعة.", "ما هي سياسة الإلغاء؟"),
}


@pytest.mark.parametrize("language", list(POLICY))
def test_it_answers_a_question_that_names_a_flow_without_opening_it(cast, agent_a, start, language):
    title, text, question = POLICY[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text}], language=language)
    conversation = start(cast.client_a, agent_a, language)
    answer, tools = say(cast.client_a, conversation, question)
    assert tools == ["search_knowledge_base"]
    assert text in answer
    with tenant_context(cast.client_a):
        conversation.refresh_from_db()
    assert conversation.state.get("flow") is None


def test_it_does_not_open_a_booking_for_available(cast, agent_a, start):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Parking", "text": "A free parking is available behind the building."}],
                         language="en")
    answer, tools = say(cast.client_a, start(cast.client_a, agent_a, "en"), "Is parking available?")
    assert tools == ["search_knowledge_base"]
    assert "behind the building" in answer


@pytest.mark.parametrize("language, text", [("fr", "Il vous reste un créneau jeudi vers 17h ?"),
                                            ("en", "Anything available tomorrow at 3 pm?"),
                                            ("en", "I want to cancel my appointment")])
def test_it_still_opens_the_flow_asked_for(cast, agent_a, start, language, text):
    _answer, tools = say(cast.client_a, start(cast.client_a, agent_a, language), text)
    assert tools == (["check_availability"] if "cancel" not in text else [])


def calls(client, conversation, text):
    events = turn_run(client=client, conversation_id=conversation.pk, text=text)
    return {e.name: e.arguments for e in events if isinstance(e, ToolCalled)}, \
        next(e for e in events if isinstance(e, TurnDone)).text


def next_weekday(cast, weekday):
    zone = ZoneInfo(cast.client_a.timezone)
    today = timezone.now().astimezone(zone).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


def test_it_understands_the_month_before_the_day(cast, agent_a, start):
    conversation = start(cast.client_a, agent_a, "en")
    tools, _answer = calls(cast.client_a, conversation, "I'd like an appointment on March 3rd at 2:30 pm")
    day = date.fromisoformat(tools["check_availability"]["date"])
    assert (day.month, day.day, tools["check_availability"]["time"]) == (3, 3, "14:30")


@pytest.mark.parametrize("language, text", [
    ("fr", "Je voudrais un rendez-vous mardi à neuf heures"),
    ("ar", "أريد موعدا يوم الثلاثاء الساعة التاسعة صباحا"),
    ("en", "Can I book an appointment on Tuesday at nine o'clock?"),
])
def test_it_books_a_time_said_in_words_with_name_and_phone_in_one_message(cast, agent_a, start, language, text):
    conversation = start(cast.client_a, agent_a, language)
    tools, _answer = calls(cast.client_a, conversation, text)
    assert tools["check_availability"] == {"date": next_weekday(cast, 1).isoformat(), "time": "09:00"}
    tools, _answer = calls(cast.client_a, conversation, "Salma Bennani, 0661234567")
    assert tools["book_appointment"]["name"] == "Salma Bennani"
    assert tools["book_appointment"]["phone"] == "0661234567"


def test_it_reads_the_evening_hour_said_in_arabic_words():
    from apps.agents.builtin import nlu
    assert nlu.extract_time("الساعة الثامنة مساء") == time(20, 0)
    assert nlu.extract_time("à huit heures") == time(8, 0)


def test_it_answers_each_message_in_its_own_language(cast, agent_a, start):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Tarifs", "text": "Une coupe coûte 150 dirhams."}], language="fr")
        documents_import(rows=[{"title": "Prices", "text": "A haircut costs 150 dirhams."}], language="en")
        documents_import(rows=[{"title": "أوقات العمل", "text": "الصالون مفتوح من الساعة 9 إلى الساعة 18."}],
                         language="ar")
    conversation = start(cast.client_a, agent_a, "fr")
    english, _tools = say(cast.client_a, conversation, "how much is a haircut?")
    assert english == "A haircut costs 150 dirhams." and source(cast.client_a, conversation) == "Prices"
    arabic, _tools = say(cast.client_a, conversation, "ما هي أوقات العمل؟")
    assert arabic == "الصالون مفتوح من الساعة 9 إلى الساعة 18." and source(cast.client_a, conversation) == "أوقات العمل"
    french, _tools = say(cast.client_a, conversation, "Combien coûte une coupe ?")
    assert french == "Une coupe coûte 150 dirhams." and source(cast.client_a, conversation) == "Tarifs"


@pytest.mark.parametrize("language, question, fact", [
    ("fr", "Où est le garage ?", "45 boulevard Zerktouni"), ("en", "Where is the garage?", "45 Zerktouni Boulevard"),
    ("ary", "فين كاين الكراج؟", "45 شارع الزرقطوني"), ("ary", "امتى كتحلو؟", "من 8 حتى 19")])
def test_it_answers_where_and_when_with_the_address_and_the_hours(cast, agent_a, start, language, question, fact):
    documents = {
        "fr": [("Horaires", "Le garage est ouvert du lundi au samedi de 8h à 19h."),
               ("Adresse", "Le garage est situé 45 boulevard Zerktouni à Marrakech."),
               ("Vidange", "Une vidange complète coûte 350 dirhams.")],
        "en": [("Opening hours", "The garage is open Monday to Saturday from 8am to 7pm."),
               ("Address", "The garage is at 45 Zerktouni Boulevard in Marrakech."),
               ("Oil change", "A full oil change costs 350 dirhams.")],
        "ary": [("الوقت ديال الخدمة", "الكراج محلول من الاثنين حتى السبت من 8 حتى 19."),
                ("العنوان", "الكراج كاين ف 45 شارع الزرقطوني فمراكش."),
                ("الفيدونج", "الفيدونج كامل ب 350 درهم.")]}[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text} for title, text in documents], language=language)
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, language), question)
    assert fact in answer, answer


def test_it_takes_a_message_or_hands_over_after_saying_it_does_not_know(cast, agent_a, start):
    conversation = start(cast.client_a, agent_a, "fr")
    say(cast.client_a, conversation, "Vous faites des cartes cadeaux ?")
    _answer, tools = say(cast.client_a, conversation, "Un message, s'il vous plaît")
    assert tools == []
    tools, _answer = calls(cast.client_a, conversation, "0661234567")
    assert tools["create_ticket"]["subject"] == "Vous faites des cartes cadeaux ?"
    assert tools["create_ticket"]["contact"] == "0661234567"
    other = start(cast.client_a, agent_a, "fr")
    say(cast.client_a, other, "Vous faites des cartes cadeaux ?")
    tools, _answer = calls(cast.client_a, other, "oui")
    assert tools == {"transfer_to_human": {"reason": "Vous faites des cartes cadeaux ?"}}


def test_it_does_not_restart_with_the_greeting_on_yes_after_anything_else(cast, agent_a, start):
    conversation = start(cast.client_a, agent_a, "fr")
    say(cast.client_a, conversation, "Merci")
    answer, _tools = say(cast.client_a, conversation, "oui")
    assert answer == "Avec plaisir : que puis-je faire pour vous ?"


def test_it_moves_the_booking_it_just_made_without_asking_for_the_reference(cast, agent_a, start):
    conversation = start(cast.client_a, agent_a, "fr")
    calls(cast.client_a, conversation, "Je voudrais un rendez-vous mardi à 10h")
    tools, _answer = calls(cast.client_a, conversation, "Salma Bennani, 0661234567")
    with tenant_context(cast.client_a):
        booked = conversation.messages.get(tool_name="book_appointment").tool_result["reference"]
    answer, tools = say(cast.client_a, conversation, "Je voudrais déplacer mon rendez-vous")
    with translation.override("fr"):
        assert answer == _("Which day and time would suit you instead?")
    tools, answer = calls(cast.client_a, conversation, "mercredi à 11h")
    assert tools["cancel_or_reschedule"]["reference"] == booked
    assert tools["cancel_or_reschedule"]["new_start"].startswith(f"{next_weekday(cast, 2).isoformat()}T11:00")


def test_it_greets_with_the_agents_hours_written_in_the_reply_language(cast, start):
    agent = make_agent(cast.client_a, business={"business_name": "Riad Zitoun", "hours": "9h-18h"},
                       texts={"ar": {"greeting": "مرحبا بكم في {business_name}. نستقبلكم {hours}."}})
    greeting, _tools = say(cast.client_a, start(cast.client_a, agent, "ar"), "مرحبا")
    assert greeting.startswith("مرحبا بكم في Riad Zitoun. نستقبلكم الاثنين–الجمعة 09:00–12:30، 14:00–18:00")
    assert "9h" not in greeting


def test_it_says_the_sentence_that_answers_and_keeps_its_source(cast, agent_a, start):
    text = ("Le riad compte 12 chambres autour d'un patio. Une chambre double coûte 900 dirhams la nuit. "
            "Le wifi est gratuit dans toutes les chambres.")
    with tenant_context(cast.client_a):
        document = documents_import(rows=[{"title": "Chambres", "text": text}], language="fr")[0]
    conversation = start(cast.client_a, agent_a, "fr")
    answer, _tools = say(cast.client_a, conversation, "Combien coûte une chambre double ?")
    assert answer == "Une chambre double coûte 900 dirhams la nuit."
    with tenant_context(cast.client_a):
        reply = conversation.messages.filter(role=Message.Role.ASSISTANT).get()
        chunk = document.chunks.get()
    assert reply.metadata["source"] == {"document": "Chambres", "document_id": document.pk, "chunk_id": chunk.pk,
                                        "text": text}
    assert reply.metadata["sources"][0] == {"document": "Chambres", "document_id": document.pk, "chunk_id": chunk.pk}


@pytest.mark.parametrize("language, question", [
    ("fr", "Je peux venir sans rendez-vous ?"), ("en", "Can I come without an appointment?"),
    ("es", "¿Puedo ir sin cita?"), ("ar", "هل يمكنني الحضور بدون موعد؟"), ("ary", "واش نقدر نجي بلا موعد؟")])
def test_it_answers_about_coming_without_an_appointment_instead_of_booking(cast, agent_a, start, language,
                                                                          question):
    _answer, tools = say(cast.client_a, start(cast.client_a, agent_a, language), question)
    assert tools == ["search_knowledge_base"]


@pytest.mark.parametrize("text, expected", [
    ("بغيت نحجز نهار الخميس على 10 ونص", time(10, 30)), ("mardi à dix heures et demie", time(10, 30)),
    ("mardi à 9h et quart", time(9, 15)), ("نهار الخميس مع الخمسة ديال العشية", time(17, 0)),
    ("نقدر نجي عندكم نهار السبت على 11؟", time(11, 0)), ("jueves a las 5 y media de la tarde", time(17, 30))])
def test_it_reads_half_and_quarter_hours_and_darija_hours(text, expected):
    from apps.agents.builtin import nlu
    assert nlu.extract_time(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Saturday at half past ten in the morning", time(10, 30)), ("quarter past four", time(16, 15)),
    ("quarter to five", time(16, 45)), ("at ten thirty", time(10, 30)), ("half ten", time(10, 30)),
    ("cinq heures moins le quart", time(16, 45)), ("à 17h moins le quart", time(16, 45)),
    ("a las cinco menos cuarto", time(16, 45)), ("once y media", time(11, 30)), ("à midi et demi", time(12, 30)),
    ("at midday", time(12, 0)), ("الساعة الثانية عشرة ظهرا", time(12, 0)), ("الساعة الحادية عشرة صباحا", time(11, 0)),
    ("الساعة الخامسة إلا ربع", time(16, 45)), ("مع 5 قل ربع", time(16, 45)), ("منتصف النهار", time(12, 0)),
    ("la una y media", time(13, 30)), ("a las 8 de la noche", time(20, 0))])
def test_it_reads_times_said_the_ways_people_say_them(text, expected):
    from apps.agents.builtin import nlu
    assert nlu.extract_time(text) == expected


@pytest.mark.parametrize("text", ["7h du matin", "à sept heures du matin", "a las siete de la mañana",
                                  "at 7 in the morning", "الساعة السابعة صباحا", "مع 7 ديال الصباح"])
def test_an_early_hour_said_with_the_morning_stays_in_the_morning(text):
    from apps.agents.builtin import nlu
    assert nlu.extract_time(text) == time(7, 0)  # not 19:00, the afternoon a bare "à 7" means


@pytest.mark.parametrize("text", ["mesa para 2 personas el viernes", "una habitación para 2 noches",
                                  "nuestra cita 5", "on est 4 adultes"])
def test_a_number_after_a_word_ending_in_a_is_not_a_time(text):
    from apps.agents.builtin import nlu
    assert nlu.extract_time(text) is None


def test_it_finds_a_darija_verb_written_in_another_person(cast, agent_a, start):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "الدخول والخروج", "text": "تقدرو تدخلو من 14:00 وخاصكم تخرجو قبل 11:00."}],
                         language="ary")
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, "ary"), "فوقاش نقدرو ندخلو؟")
    assert "14:00" in answer


@pytest.mark.parametrize("text, page, expected", [
    ("On peut se garer où ?", "en", "fr"), ("¿Cuánto cuesta un corte de hombre?", "en", "es"),
    ("Is the salon open on Monday?", "fr", "en")])
def test_it_tells_the_language_of_a_message_by_the_words_only_it_uses(text, page, expected):
    from apps.agents.builtin import nlu
    language, confidence = nlu.detect_language(text, page)
    assert language == expected and confidence >= 0.75


def test_it_offers_afternoon_times_when_asked_for_the_afternoon(cast, agent_a, start):
    conversation = start(cast.client_a, agent_a, "en")
    tools, _answer = calls(cast.client_a, conversation, "Hi, I need an appointment on Monday afternoon")
    assert tools["check_availability"]["date"] == next_weekday(cast, 0).isoformat()
    with tenant_context(cast.client_a):
        conversation.refresh_from_db()
    offered = conversation.state["offered"]
    assert offered and all(int(iso[11:13]) >= 12 for iso in offered)


def test_it_keeps_the_visitors_message_when_a_builtin_turn_fails(cast, agent_a, start, monkeypatch):
    """The built-in turn writes its messages at its end; when it fails, the visitor's message is still kept."""
    from django.db import DatabaseError

    from apps.agents import tools as agent_tools

    def failing(**_kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(agent_tools, "knowledge_search", failing)
    conversation = start(cast.client_a, agent_a, "fr")
    with pytest.raises(DatabaseError):
        turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Quels sont vos horaires ?")
    with tenant_context(cast.client_a):
        assert list(conversation.messages.values_list("role", "text")) == [("user", "Quels sont vos horaires ?")]


def test_a_title_is_cut_from_the_answer_only_when_it_is_the_faq_question(cast, agent_a, start):
    with tenant_context(cast.client_a):
        documents_import(rows=[
            {"title": "Cancellation", "text": "Cancellation is free up to 48 hours before arrival. After that, the "
                                              "first night is charged."},
            {"title": "Do you take cards?", "text": "Do you take cards? Yes, we accept bank cards and cash."}],
            language="en")
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, "en"), "what is your cancellation policy?")
    assert answer.startswith("Cancellation is free up to 48 hours"), answer
    answer, _tools = say(cast.client_a, start(cast.client_a, agent_a, "en"), "can I pay by card?")
    assert answer.startswith("Yes, we accept bank cards"), answer


def test_an_agent_that_can_only_hand_over_offers_that_and_hands_over_on_yes(cast, start):
    from tests.agents.conftest import make_agent

    agent = make_agent(cast.client_a, tools=["search_knowledge_base", "transfer_to_human"])
    conversation = start(cast.client_a, agent, "fr")
    answer, _tools = say(cast.client_a, conversation, "Vous faites des cartes cadeaux ?")
    with translation.override("fr"):
        assert answer == _("I don't have that information. Would you like me to put you in touch with our team?")
    tools, _answer = calls(cast.client_a, conversation, "oui")
    assert tools == {"transfer_to_human": {"reason": "Vous faites des cartes cadeaux ?"}}
