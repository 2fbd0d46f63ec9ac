"""Golden conversations with the built-in engine, in each of the five languages."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.agents.engine import HandOver, ToolCalled, ToolReturned, TurnDone, turn_run
from apps.bookings.models import Appointment
from apps.conversations.models import Conversation, Message
from apps.crm.models import Lead
from apps.knowledge.services import documents_import
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db

BOOKING = {
    "fr": ["Bonjour, je voudrais un rendez-vous mardi", "le premier", "Je m'appelle Marie Dupont", "06 12 34 56 78"],
    "en": ["Hi, I'd like to book an appointment on Tuesday", "the first one", "My name is John Smith",
           "john@example.com"],
    "es": ["Hola, quisiera una cita el martes", "el primero", "Me llamo Lucía García", "612 345 678 9"],
    "ar": ["مرحبا، أريد حجز موعد يوم الثلاثاء", "الأول", "اسمي أحمد علي", "0612345678"],
    "ary": ["السلام، بغيت ناخد موعد نهار التلات", "اللول", "سميتي يوسف العلوي", "0612345678"],
}
LEAD = {
    "fr": ["Je voudrais un devis pour rénover entièrement ma cuisine", "environ 15000 euros",
           "oui, c'est moi qui décide", "dans 2 mois", "Je m'appelle Paul Martin", "paul@example.com"],
    "en": ["I'd like a quote to renovate my whole kitchen", "around 15000 dollars", "yes, I'm the owner",
           "in 2 months", "My name is Paul Martin", "paul@example.com"],
    "es": ["Quisiera un presupuesto para reformar toda mi cocina", "unos 15000 euros", "sí, soy el dueño",
           "en 2 meses", "Me llamo Pablo Martín", "pablo@example.com"],
    "ar": ["أريد عرض سعر لتجديد مطبخي بالكامل", "حوالي 15000 درهم", "نعم، أنا المدير", "خلال 2 شهر",
           "اسمي بولس مرتين", "paul@example.com"],
    "ary": ["بغيت دوفي باش نجدد الكوزينة ديالي كاملة", "تقريبا 15000 درهم", "ايه، انا مول الدار لي كنقرر",
            "من دابا 2 شهور", "سميتي بولس", "paul@example.com"],
}
KB = {
    "fr": ("Horaires d'ouverture", "Le cabinet est ouvert du lundi au vendredi de 9h à 18h et le samedi de 9h à 12h.",
           "Quels sont vos horaires le samedi ?"),
    "en": ("Opening hours", "The clinic is open Monday to Friday from 9am to 6pm and on Saturday from 9am to noon.",
           "What are your opening hours on Saturday?"),
    "es": ("Horario de apertura", "La clínica abre de lunes a viernes de 9 a 18 h y el sábado de 9 a 12 h.",
           "¿Cuál es el horario del sábado?"),
    "ar": ("مواعيد العمل", "العيادة مفتوحة من الاثنين إلى الجمعة من 9 صباحا إلى 6 مساء ويوم السبت من 9 إلى 12.",
           "ما هي مواعيد العمل يوم السبت؟"),
    "ary": ("الوقت ديال الخدمة", "العيادة محلولة من الاثنين حتى الجمعة من 9 الصباح حتى 6 العشية، والسبت من 9 حتى 12.",
            "شنو هو الوقت ديال الخدمة نهار السبت؟"),
}
HANDOVER = {"fr": "Je veux parler à un conseiller", "en": "Can I talk to a real person please?",
            "es": "Quiero hablar con una persona", "ar": "أريد التحدث مع موظف", "ary": "بغيت نهضر مع شي واحد"}
LANGUAGES = list(BOOKING)


def talk(client, conversation, lines):
    events = []
    for line in lines:
        events.append(turn_run(client=client, conversation_id=conversation.pk, text=line))
    return events


def assert_in_language(text, language):
    arabic = any("\u0600" <= ch <= "\u06ff" for ch in text)
    assert arabic == (language in {"ar", "ary"}), text
    if language != "en":
        assert "Your reference" not in text and "under the name" not in text, text


def reply(events):
    return next(e for e in events if isinstance(e, TurnDone)).text


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_books_an_appointment_at_the_right_local_time(cast, agent_a, start, language):
    conversation = start(cast.client_a, agent_a, language)
    turns = talk(cast.client_a, conversation, BOOKING[language])
    assert any(isinstance(e, ToolCalled) and e.name == "check_availability" for e in turns[0])
    assert any(isinstance(e, ToolReturned) and e.name == "book_appointment" and e.ok for e in turns[-1]), \
        [reply(t) for t in turns]
    with tenant_context(cast.client_a):
        appointment = Appointment.objects.get(conversation=conversation)
        conversation.refresh_from_db()
    zone = ZoneInfo(cast.client_a.timezone)
    local = appointment.start.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    expected_day = today + timedelta(days=(1 - today.weekday()) % 7 or 7)  # next Tuesday
    assert (local.date(), local.hour, local.minute) == (expected_day, 9, 0)
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.reference in reply(turns[-1])
    assert_in_language(reply(turns[-1]), language)
    assert conversation.outcome == Conversation.Outcome.BOOKED


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_qualifies_a_lead_with_its_score(cast, agent_a, start, language):
    conversation = start(cast.client_a, agent_a, language)
    turns = talk(cast.client_a, conversation, LEAD[language])
    assert any(isinstance(e, ToolReturned) and e.name == "qualify_lead" and e.ok for e in turns[-1]), \
        [reply(t) for t in turns]
    with tenant_context(cast.client_a):
        lead = Lead.objects.get(conversation=conversation)
    assert lead.budget == 15000
    assert lead.is_decision_maker is True
    assert lead.timeline_days == 60
    assert lead.breakdown == {"budget": 25, "authority": 25, "need": 25, "timeline": 15}
    assert lead.score == 90
    assert lead.email.endswith("@example.com")
    assert_in_language(reply(turns[1]), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_answers_from_the_clients_own_documents(cast, agent_a, start, language):
    title, text, question = KB[language]
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": title, "text": text}], language=language)
    with tenant_context(cast.client_b):
        documents_import(rows=[{"title": "Secret B", "text": f"{text} Client B only: code 4242."}], language=language)
    agent_b = make_agent(cast.client_b)
    conversation = start(cast.client_a, agent_a, language)
    answer = reply(turn_run(client=cast.client_a, conversation_id=conversation.pk, text=question))
    assert answer in text and "4242" not in answer  # the passage's own sentence(s), not the passage pasted
    conversation_b = start(cast.client_b, agent_b, language)
    reply(turn_run(client=cast.client_b, conversation_id=conversation_b.pk, text=question))
    sources = []
    for client, talk_with in ((cast.client_a, conversation), (cast.client_b, conversation_b)):
        with tenant_context(client):
            last = talk_with.messages.filter(role=Message.Role.ASSISTANT).order_by("-id").first()
            sources.append(last.metadata["source"]["document"])
    assert sources == [title, "Secret B"]  # each client's reply keeps its own document for the dashboard


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_hands_over_to_a_human(cast, agent_a, start, language):
    conversation = start(cast.client_a, agent_a, language)
    events = turn_run(client=cast.client_a, conversation_id=conversation.pk, text=HANDOVER[language])
    handover = next(e for e in events if isinstance(e, HandOver))
    assert handover.phone == "+33100000000"
    with tenant_context(cast.client_a):
        conversation.refresh_from_db()
        assert conversation.outcome == Conversation.Outcome.HANDOVER
        roles = list(conversation.messages.values_list("role", flat=True))
    assert roles == [Message.Role.USER, Message.Role.TOOL, Message.Role.ASSISTANT]
