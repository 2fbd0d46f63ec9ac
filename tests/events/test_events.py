"""Domain events: written by the services that make each change, in the same transaction, matching the
catalogue's schema; nothing is recorded when the change rolls back."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.events import catalogue, selectors
from apps.events.models import Event, WebhookDelivery
from apps.events.services import event_record
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db


def next_monday_at(zone: ZoneInfo, hour: int, minute: int = 0) -> datetime:
    today = timezone.now().astimezone(zone).date()
    monday = today + timedelta(days=(0 - today.weekday()) % 7 or 7)
    return datetime.combine(monday, datetime.min.time(), zone).replace(hour=hour, minute=minute)


def book(cast, commit, hour=9):
    from apps.bookings.services import appointment_book

    agent = make_agent(cast.client_a)
    with commit(execute=True):
        return appointment_book(agent=agent, start=next_monday_at(ZoneInfo(cast.client_a.timezone), hour),
                                customer_name="Nadia", customer_email="nadia@example.com")


def types_recorded() -> list[str]:
    return list(Event.objects.order_by("id").values_list("type", flat=True))


def assert_matches_catalogue() -> None:
    for event in Event.objects.all():
        assert catalogue.data_problems(event.type, event.data) == [], event.type
        assert event.version == catalogue.event_type(event.type).version


def test_every_service_records_its_event_matching_the_catalogue(cast, django_capture_on_commit_callbacks):
    from apps.bookings.services import appointment_cancel, appointment_reschedule
    from apps.conversations.services import conversation_set_outcome, conversation_start, message_add
    from apps.crm.services import callback_done, callback_schedule, lead_qualify, ticket_create

    with tenant_context(cast.client_a):
        agent = make_agent(cast.client_a)
        conversation = conversation_start(agent=agent, channel="widget_text", language="en")
        message_add(conversation=conversation, role="user", text="Hello")
        message_add(conversation=conversation, role="assistant", text="Hi!")
        message_add(conversation=conversation, role="event", text="visitor interrupted")  # internal: no event
        lead = lead_qualify(conversation=conversation, name="Ana", email="ana@example.com")
        lead_qualify(conversation=conversation, name="Ana", budget="5000", is_decision_maker=True,
                     need="A new website for our three restaurants", timeline_days=20)  # reaches 50: qualified
        lead_qualify(conversation=conversation, name="Ana", phone="+33612345678")  # already qualified: nothing
        ticket_create(subject="Refund", conversation=conversation)
        callback = callback_schedule(phone="+33612345678", due_at=timezone.now() + timedelta(hours=2))
        callback_done(callback=callback)
        callback_done(callback=callback)  # once only
        appointment = book(cast, django_capture_on_commit_callbacks)
        moved = appointment_reschedule(reference=appointment.reference,
                                       start=next_monday_at(ZoneInfo(cast.client_a.timezone), 10, 20))
        appointment_cancel(reference=moved.reference)
        appointment_cancel(reference=moved.reference)  # once only
        conversation_set_outcome(conversation=conversation, outcome="ended")
        conversation_set_outcome(conversation=conversation, outcome="ended")  # once only
        assert types_recorded() == [
            "conversation.started", "message.created", "message.created", "lead.created", "lead.qualified",
            "ticket.created", "callback.scheduled", "callback.done", "appointment.booked",
            "appointment.rescheduled", "appointment.cancelled", "conversation.ended"]
        assert_matches_catalogue()
        data = {event.type: event.data for event in Event.objects.all()}
        assert data["lead.qualified"]["id"] == lead.pk and data["lead.qualified"]["score"] >= 50
        assert data["appointment.rescheduled"]["previous_reference"] == appointment.reference
        assert data["appointment.cancelled"]["reference"] == moved.reference
        assert data["conversation.ended"]["ended"] is not None
        assert not WebhookDelivery.objects.exists()  # no endpoint: events only
    with tenant_context(cast.client_b):
        assert not Event.objects.exists()


def test_an_event_rolls_back_with_its_change(cast):
    from apps.crm.models import Ticket
    from apps.crm.services import ticket_create

    with tenant_context(cast.client_a):
        with pytest.raises(RuntimeError), transaction.atomic():
            ticket_create(subject="Lost with the rest")
            raise RuntimeError("the caller failed after the change")
        assert not Ticket.objects.exists() and not Event.objects.exists()


def test_a_failed_booking_records_nothing(cast, django_capture_on_commit_callbacks):
    from apps.bookings.services import appointment_book
    from apps.core.errors import Conflict

    with tenant_context(cast.client_a):
        first = book(cast, django_capture_on_commit_callbacks)
        with pytest.raises(Conflict):
            appointment_book(agent=first.agent, start=first.start, customer_name="Twice")
        assert types_recorded() == ["appointment.booked"]


def test_it_refuses_unknown_types_and_the_public_schema(cast):
    with tenant_context(cast.client_a), pytest.raises(KeyError):
        event_record(type="lead.exploded", data={})
    with pytest.raises(RuntimeError):
        event_record(type="ticket.created", data={})


def test_the_catalogue_is_complete_and_translated(cast):
    entries = selectors.catalogue(language="fr")
    assert {entry["type"] for entry in entries} == set(catalogue.TYPES)
    for entry in entries:
        schema = entry["schema"]
        assert entry["version"] >= 1 and schema["type"] == "object"
        assert set(schema["required"]) <= set(schema["properties"])
    english = {entry["type"]: entry["description"] for entry in selectors.catalogue(language="en")}
    french = {entry["type"]: entry["description"] for entry in entries}
    assert all(french[name] != english[name] for name in english), "every description has its French"
    assert catalogue.data_problems("ticket.created", {"id": "1"})  # the checker does check
