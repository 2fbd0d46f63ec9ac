"""Tools and the services behind them: slots, the booking race, plan gating, leads, messages."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS, ToolContext, tools_for
from apps.bookings import services as bookings
from apps.bookings.models import Appointment
from apps.conversations.services import conversation_start
from apps.core.errors import Conflict, FeatureNotInPlan, InvalidInput
from apps.crm.services import bant_score
from apps.integrations.models import Delivery
from tests.agents.conftest import make_agent


def next_weekday(weekday: int, zone: ZoneInfo) -> date:
    today = timezone.now().astimezone(zone).date()
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


@pytest.mark.django_db
def test_it_offers_slots_from_hours_length_and_buffer_in_the_clients_zone(cast, agent_a):
    zone = ZoneInfo(cast.client_a.timezone)
    monday = next_weekday(0, zone)
    with tenant_context(cast.client_a):
        slots = bookings.slots_available(agent=agent_a, start_day=monday, days=1, limit=50)
    local = [slot.astimezone(zone).strftime("%H:%M") for slot in slots]
    # 09:00-12:30 and 14:00-18:00, 30 min + 10 min buffer
    assert local == ["09:00", "09:40", "10:20", "11:00", "11:40", "14:00", "14:40", "15:20", "16:00", "16:40",
                     "17:20"]
    assert all(slot.utcoffset() == datetime.combine(monday, datetime.min.time(), zone).utcoffset()
               for slot in slots)


@pytest.mark.django_db
def test_it_blocks_overlapping_slots_and_keeps_the_buffer(cast, agent_a):
    zone = ZoneInfo(cast.client_a.timezone)
    monday = next_weekday(0, zone)
    with tenant_context(cast.client_a):
        bookings.appointment_book(agent=agent_a, start=datetime.combine(monday, datetime.min.time(), zone)
                                  .replace(hour=9, minute=40), customer_name="A")
        local = [s.astimezone(zone).strftime("%H:%M")
                 for s in bookings.slots_available(agent=agent_a, start_day=monday, days=1)]
        assert "09:40" not in local and "09:00" in local and "10:20" in local
        with pytest.raises(Conflict):
            bookings.appointment_book(agent=agent_a, start=datetime.combine(monday, datetime.min.time(), zone)
                                      .replace(hour=10, minute=0), customer_name="B")  # inside 09:40 + buffer
        with pytest.raises(InvalidInput):
            bookings.appointment_book(agent=agent_a, start=datetime.combine(monday, datetime.min.time(), zone)
                                      .replace(hour=13), customer_name="C")  # lunch break
        with pytest.raises(InvalidInput):
            bookings.appointment_book(agent=agent_a, start=timezone.now() - timedelta(days=1), customer_name="D")


@pytest.fixture
def committed_agent(session_cast, django_db_blocker):
    with django_db_blocker.unblock():
        agent = make_agent(session_cast.client_a, name="Race")
        yield agent
        with tenant_context(session_cast.client_a):
            from apps.events.models import Event

            booked = list(Appointment.objects.filter(agent=agent).values_list("reference", flat=True))
            Appointment.objects.filter(agent=agent).delete()
            Agent.objects.filter(pk=agent.pk).delete()
            # the committed booking's event too: later tests count the events of this schema
            Event.objects.filter(type="appointment.booked", data__reference__in=booked).delete()


def test_it_never_double_books_under_a_race(session_cast, committed_agent, django_db_blocker):
    zone = ZoneInfo(session_cast.client_a.timezone)
    start = datetime.combine(next_weekday(2, zone), datetime.min.time(), zone).replace(hour=11)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def book(name: str) -> None:
        try:
            with tenant_context(session_cast.client_a):
                barrier.wait()
                bookings.appointment_book(agent=committed_agent, start=start, customer_name=name)
            outcomes.append("booked")
        except Conflict:
            outcomes.append("conflict")
        except Exception as error:  # reported by the assertion below
            outcomes.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=book, args=(f"racer {n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with tenant_context(session_cast.client_a):
            assert Appointment.objects.filter(agent=committed_agent, status="booked").count() == 1
    assert sorted(outcomes) == ["booked", "conflict", "conflict", "conflict"]


@pytest.mark.django_db
def test_it_gates_tools_by_plan_and_agent(cast):
    agent_b = make_agent(cast.client_b)  # starter: no booking, no outbound calls
    names = {tool.name for tool in tools_for(agent=agent_b, client=cast.client_b)}
    assert "book_appointment" not in names and "schedule_callback" not in names
    assert {"search_knowledge_base", "qualify_lead", "transfer_to_human"} <= names
    agent_a = make_agent(cast.client_a, tools=["search_knowledge_base"])
    assert [tool.name for tool in tools_for(agent=agent_a, client=cast.client_a)] == ["search_knowledge_base"]


@pytest.mark.django_db
def test_it_queues_messages_and_sends_them_after_the_commit(cast, agent_a, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        conversation = conversation_start(agent=agent_a, channel="widget_text")
        ctx = ToolContext(client=cast.client_a, agent=agent_a, conversation=conversation, language="fr")
        with django_capture_on_commit_callbacks(execute=True):
            sms = TOOLS["send_message"].handler(ctx, {"channel": "sms", "to": "+33612345678", "body": "RDV demain 9h"})
            mail = TOOLS["send_message"].handler(ctx, {"channel": "email", "to": "x@example.com", "body": "Hello",
                                                       "subject": "RDV"})
            # The tool call only queues: nothing is sent inside it.
            assert sms["status"] == mail["status"] == "queued" and mailoutbox == []
        kept = Delivery.objects.get(pk=sms["message_id"])
        assert (kept.status, kept.provider, kept.kept_in_outbox, kept.attempts) == ("sent", "outbox", True, 1)
        sent = Delivery.objects.get(pk=mail["message_id"])
        assert (sent.status, sent.provider, sent.attempts) == ("sent", "agency", 1)
        assert mailoutbox[0].to == ["x@example.com"] and mailoutbox[0].subject == "RDV"
        assert sent.provider_message_id == mailoutbox[0].extra_headers["Message-ID"]
        with pytest.raises(InvalidInput):
            TOOLS["send_message"].handler(ctx, {"channel": "sms", "to": "not a phone", "body": "x"})
        with pytest.raises(FeatureNotInPlan):
            TOOLS["send_message"].handler(ctx, {"channel": "whatsapp", "to": "+33612345678", "body": "x"})


@pytest.mark.django_db
def test_it_cancels_and_reschedules_by_reference(cast, agent_a):
    zone = ZoneInfo(cast.client_a.timezone)
    day = next_weekday(3, zone)
    with tenant_context(cast.client_a):
        conversation = conversation_start(agent=agent_a, channel="phone")
        ctx = ToolContext(client=cast.client_a, agent=agent_a, conversation=conversation, language="fr")
        booked = TOOLS["book_appointment"].handler(ctx, {"start": f"{day}T09:00", "name": "Ana"})
        moved = TOOLS["cancel_or_reschedule"].handler(ctx, {"reference": booked["reference"],
                                                            "new_start": f"{day}T14:00"})
        assert moved["action"] == "rescheduled" and moved["start"].startswith(f"{day}T14:00")
        assert Appointment.objects.get(reference=booked["reference"]).status == "cancelled"
        cancelled = TOOLS["cancel_or_reschedule"].handler(ctx, {"reference": moved["reference"]})
        assert cancelled["action"] == "cancelled"
        assert not Appointment.objects.filter(status="booked").exists()


@pytest.mark.parametrize("budget, authority, need, days, expected", [
    (Decimal(5000), True, "A full kitchen renovation next spring", 20, 100),
    (None, None, "", None, 10),
    (Decimal(0), False, "short", 400, 5 + 5 + 15 + 5),
])
def test_it_scores_bant(budget, authority, need, days, expected):
    assert sum(bant_score(budget=budget, is_decision_maker=authority, need=need, timeline_days=days).values()) \
        == expected


def test_each_tool_names_its_effects_and_the_channels_read_them_not_its_name():
    from apps.agents import engine
    from apps.agents.tools import EFFECTS, TOOLS, tool_effects
    from apps.widget.events import CARDS, event_payload

    assert {effect for tool in TOOLS.values() for effect in tool.effects} <= set(EFFECTS)
    assert tool_effects("transfer_to_human") == ("handover",) and tool_effects("end_conversation") == ("end",)
    assert tool_effects("book_appointment") == ("booking",) and tool_effects("nonexistent") == ()
    assert set(CARDS) <= set(EFFECTS)
    booked = engine.ToolReturned("c1", "book_appointment", True, {"reference": "RDV-1", "start": "s", "end": "e",
                                                                  "name": "Salma", "timezone": "Africa/Casablanca",
                                                                  "internal": "x"})
    assert event_payload(booked) == ("booking", {"reference": "RDV-1", "start": "s", "end": "e", "name": "Salma",
                                                 "timezone": "Africa/Casablanca"})
    assert event_payload(engine.ToolReturned("c2", "book_appointment", False, {"error": "taken"})) is None
    assert event_payload(engine.ToolReturned("c3", "search_knowledge_base", True, {"passages": []})) is None
