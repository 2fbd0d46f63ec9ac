"""The dashboard speaks to people: names instead of codes (sectors, languages, tools, search methods), tool calls
as readable cards, times in the client's zone written the language's way, date fields read the same way, and a
confirmation before a document is deleted."""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_start, message_add
from apps.conversations.transcript import tool_card
from apps.knowledge.models import Document
from apps.knowledge.selectors import search_method_label
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
STARTED = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)  # 20:00 in Paris (client A's zone)


def _conversation(client, language="ar", started=STARTED, **agent_fields):
    agent = make_agent(client, **agent_fields)
    with tenant_context(client):
        conversation = conversation_start(agent=agent, channel=Conversation.Channel.WIDGET_TEXT, language=language)
        Conversation.objects.filter(pk=conversation.pk).update(started=started)
        return conversation


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_it_shows_times_in_the_clients_zone_written_the_languages_way(cast, as_user):
    conversation = _conversation(cast.client_a)
    page = as_user(cast.alice, cast.client_a).get("/conversations/").content.decode()
    assert f'{conversation.pk}</a></td><td>04/12/2026 20:00</td>' in page


def test_it_names_sectors_and_languages_in_the_readers_language(cast, as_user):
    make_agent(cast.client_a, sector="dental", languages=["fr", "ar", "ary"])
    page = as_user(cast.alice, cast.client_a).get("/agents/").content.decode()
    assert "<td>Dental &amp; Medical Practice</td>" in page and "<td>French, Arabic, Moroccan Darija</td>" in page
    make_agent(cast.client_b, sector="dental", languages=["fr", "ary"])
    page = as_user(cast.carol, cast.client_b).get("/agents/").content.decode()
    assert "<td>عيادة أسنان وعيادة طبية</td>" in page and "<td>الفرنسية، الدارجة المغربية</td>" in page
    assert "dental" not in _text(page) and ">fr, ary<" not in page


def test_it_names_the_conversations_language(cast, as_user):
    _conversation(cast.client_b, language="ary")
    page = as_user(cast.carol, cast.client_b).get("/conversations/").content.decode()
    assert "<td>الدارجة المغربية</td>" in page and '<td class="mono">ary</td>' not in page


def test_it_says_how_a_passage_was_found_in_a_sentence():
    with translation.override("fr"):
        assert search_method_label("fulltext+corrected") == (
            "Trouvé après correction de mots mal orthographiés de la question.")
        assert search_method_label("fulltext") == "Trouvé avec les mots de la question."


def test_it_renders_a_tool_call_as_a_card_with_translated_labels(cast, as_user):
    conversation = _conversation(cast.client_b, language="ar")
    with tenant_context(cast.client_b):
        message_add(conversation=conversation, role=Message.Role.TOOL, tool_name="book_appointment",
                    tool_call_id="call_1", tool_args={"start": "2026-12-04T15:00+01:00", "name": "ليلى",
                                                          "phone": "+212612345678"},
                    tool_result={"reference": "RDV-ABC123", "start": "2026-12-04T15:00+01:00",
                                 "timezone": "Europe/Paris"})
        message_add(conversation=conversation, role=Message.Role.TOOL, tool_name="create_ticket",
                    tool_call_id="call_2", tool_args={"subject": "x", "priority": "urgent"},
                    tool_result={"error": "plan limit", "code": "quota_exceeded"})
    page = as_user(cast.carol, cast.client_b).get(f"/conversations/{conversation.pk}/").content.decode()
    # bravo's zone is Europe/Paris too: 15:00 +01:00 is written 04/12/2026 15:00, never 02:00 م
    assert "<strong>حجز موعد</strong>" in page and '<span class="badge ok">تم</span>' in page
    assert '<dt>الوقت</dt><dd><bdi dir="ltr">04/12/2026 15:00</bdi></dd>' in page
    assert '<dt>المرجع</dt><dd><bdi dir="auto">RDV-ABC123</bdi></dd>' in page
    assert '<bdi dir="ltr">+212612345678</bdi>' in page  # never "212612345678+" in right-to-left
    assert "<strong>فتح تذكرة دعم</strong>" in page and '<span class="badge bad">فشل</span>' in page
    assert "<dt>الأولوية</dt>" in page and "<bdi dir=\"auto\">عاجلة</bdi>" in page and "<bdi>plan limit</bdi>" in page
    assert "book_appointment" not in page and "{&#x27;" not in page and "quota_exceeded" not in page
    assert '<div class="tool-card">' in page and "<bdi>" in page


def test_it_reads_odd_tool_rows_without_failing():
    with translation.override("en"):
        card = tool_card(name="unknown_tool", arguments=None, result=["a", {"document": "FAQ"}, True, 3.5])
    assert card.label == "unknown_tool" and card.ok and card.arguments == []
    assert card.result == [("Result", "a, FAQ, Yes, 3.5")]
    with translation.override("fr"), timezone.override(ZoneInfo("Europe/Paris")):
        card = tool_card(name="check_availability", arguments={"time": "10:00", "date": "2026-12-08"},
                         result={"timezone": "Europe/Paris", "slots": ["2026-12-08T09:00+01:00", "2026-02-30T09:00"],
                                 "start": "2026-02-30"})
    assert card.label == "Consulter les disponibilités"
    assert card.arguments == [("Date", "08/12/2026"), ("Heure", "10:00")]  # the telling fields first
    assert card.result[0] == ("Heure", "2026-02-30")  # impossible dates shown as they are, never a 500
    assert ("Créneaux libres", "08/12/2026 09:00, 2026-02-30T09:00") in card.result


def test_it_asks_before_deleting_a_document(cast, as_user):
    with tenant_context(cast.client_a):
        document = Document.objects.create(title="Tarifs 2026", kind=Document.Kind.TEXT, language="fr",
                                           raw_text="x")
    http = as_user(cast.alice, cast.client_a)
    listing = http.get("/knowledge/").content.decode()
    assert f'<a class="btn small danger" href="/knowledge/{document.pk}/delete/">Delete</a>' in listing
    confirm = http.get(f"/knowledge/{document.pk}/delete/")
    assert confirm.status_code == 200
    assert "Delete “<bdi>Tarifs 2026</bdi>”?" in confirm.content.decode()
    assert 'name="confirm" value="yes"' in confirm.content.decode()
    assert http.post(f"/knowledge/{document.pk}/delete/").status_code == 200  # no confirmation: asked again
    with tenant_context(cast.client_a):
        assert Document.objects.filter(pk=document.pk).exists()
    assert as_user(cast.bob, cast.client_a).post(f"/knowledge/{document.pk}/delete/",
                                                 {"confirm": "yes"}).status_code == 403
    response = http.post(f"/knowledge/{document.pk}/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        assert not Document.objects.filter(pk=document.pk).exists()


def test_it_confirms_deletion_in_arabic(cast, as_user):
    with tenant_context(cast.client_b):
        document = Document.objects.create(title="الأسعار", kind=Document.Kind.TEXT, language="ar", raw_text="x")
    page = as_user(cast.carol, cast.client_b).get(f"/knowledge/{document.pk}/delete/").content.decode()
    assert "حذف «<bdi>الأسعار</bdi>»؟" in page and "نعم، احذفه" in page


@pytest.mark.parametrize("typed", ["04/12/2026", "4/12/2026", "2026-12-04"])
def test_it_reads_the_conversation_filters_dates_as_the_language_writes_them(cast, as_user, typed):
    inside = _conversation(cast.client_a)
    outside = _conversation(cast.client_a, started=datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    page = as_user(cast.alice, cast.client_a).get("/conversations/", {"from": typed, "to": typed}).content.decode()
    assert f'href="/conversations/{inside.pk}/"' in page and f'href="/conversations/{outside.pk}/"' not in page
    assert 'name="from" value="04/12/2026" placeholder="e.g. 31/12/' in page and 'type="date"' not in page


def test_it_keeps_what_was_typed_when_a_date_cannot_be_read(cast, as_user):
    response = as_user(cast.alice, cast.client_a).get("/conversations/", {"from": "31/02/2026", "to": "bad"})
    assert response.status_code == 200
    assert 'value="31/02/2026"' in response.content.decode() and 'value="bad"' in response.content.decode()


@pytest.mark.parametrize("week", ["2026-12-04", "04/12/2026", "4-12-2026"])
def test_it_goes_to_the_week_of_a_date_typed_the_languages_way(cast, as_user, week):
    page = as_user(cast.alice, cast.client_a).get("/appointments/", {"week": week}).content.decode()
    assert "Week of 30 November 2026" in page
    assert 'name="week" value="30/11/2026"' in page and 'href="?week=2026-12-07"' in page


def test_it_writes_the_week_in_darija_with_moroccan_months(cast, as_user):
    cast.carol.preferred_language = "ary"
    cast.carol.save(update_fields=["preferred_language"])
    page = as_user(cast.carol, cast.client_b).get("/appointments/", {"week": "2026-12-04"}).content.decode()
    assert "30 نونبر 2026" in page


@pytest.mark.parametrize("week, status", [("0001-01-01", 400), ("9999-12-31", 400), ("31/12/0001", 400),
                                          ("99999-01-01", 200), ("x" * 5000, 200)])
def test_it_refuses_absurd_weeks_and_ignores_unreadable_ones(cast, as_user, week, status):
    """A year the calendar cannot show is said so (tests/test_bad_input.py); what is not a date shows this week."""
    assert as_user(cast.alice, cast.client_a).get("/appointments/", {"week": week}).status_code == status


def test_it_names_tools_in_the_test_chat(cast, as_user):
    agent = make_agent(cast.client_a)
    response = as_user(cast.alice, cast.client_a).post(
        f"/agents/{agent.pk}/chat/", json.dumps({"text": "Je voudrais un rendez-vous mardi", "language": "fr"}),
        content_type="application/json")
    called = [e for e in response.json()["events"] if e["type"] == "ToolCalled"]
    assert called and called[0]["name"] == "check_availability" and called[0]["label"] == "Check availability"


def test_it_leaves_no_time_zone_active_after_a_request(cast, as_user):
    from django.utils import timezone

    as_user(cast.alice, cast.client_a).get("/conversations/")
    assert timezone.get_current_timezone_name() == "UTC"


def test_it_names_the_document_an_answer_was_taken_from(cast, as_user):
    conversation = _conversation(cast.client_b, language="ar")
    with tenant_context(cast.client_b):
        message_add(conversation=conversation, role=Message.Role.ASSISTANT, text="الفطور من 8:00 إلى 10:30.",
                    metadata={"source": {"document": "الفطور والعشاء", "document_id": 1, "chunk_id": 1,
                                         "text": "يقدم الفطور في السطح من الساعة 8:00 إلى الساعة 10:30."}})
    page = as_user(cast.carol, cast.client_b).get(f"/conversations/{conversation.pk}/").content.decode()
    assert '<span class="muted">المصدر: الفطور والعشاء</span>' in page
