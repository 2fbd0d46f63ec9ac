"""Availability and booking. Slots come from the agent's hours, length and buffer, in the client's
time zone; PostgreSQL's exclusion constraint makes double booking impossible, even under a race."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.agents.models import WEEKDAYS, Agent
from apps.bookings.models import Appointment
from apps.core.errors import Conflict, InvalidInput, NotFound
from apps.events import payloads
from apps.events.services import event_record

MIN_LEAD_TIME = timedelta(minutes=30)
MAX_DAYS_AHEAD = 90
MAX_SLOTS_PER_INTERVAL = 24 * 60


def client_zone() -> ZoneInfo:
    tenant = getattr(connection, "tenant", None)
    return ZoneInfo(getattr(tenant, "timezone", "") or "UTC")


def _intervals(agent: Agent, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    result = []
    for start_text, end_text in (agent.business_hours or {}).get(WEEKDAYS[day.weekday()], []):
        start = datetime.combine(day, time.fromisoformat(start_text), zone)
        end = (datetime.combine(day + timedelta(days=1), time(0), zone) if end_text == "24:00"  # the form allows it
               else datetime.combine(day, time.fromisoformat(end_text), zone))
        if end > start:
            result.append((start, end))
    return result


def slots_available(*, agent: Agent, start_day: date | None = None, days: int = 7, limit: int = 50,
                    now: datetime | None = None) -> list[datetime]:
    """Free appointment starts (aware datetimes in the client's zone), earliest first.

    Only days from today to MAX_DAYS_AHEAD have any (a day Python holds but cannot add a week to,
    9999-12-31, has none); an agent with a zero-minute appointment has none (the form refuses it; the grid
    would never advance), and one opening interval yields at most a day's minutes of slots."""
    zone = client_zone()
    now = now or timezone.now()
    today = now.astimezone(zone).date()
    start_day = start_day or today
    days = max(1, min(days, MAX_DAYS_AHEAD + 1))
    if (start_day > today + timedelta(days=MAX_DAYS_AHEAD) or start_day + timedelta(days=days) <= today
            or agent.appointment_minutes <= 0):
        return []
    length = timedelta(minutes=agent.appointment_minutes)
    step = length + timedelta(minutes=agent.buffer_minutes)
    window_end = datetime.combine(start_day + timedelta(days=days), time(0), zone)
    booked = list(Appointment.objects.filter(
        agent=agent, status=Appointment.Status.BOOKED, blocked_until__gt=datetime.combine(start_day, time(0), zone),
        start__lt=window_end).values_list("start", "blocked_until"))
    free: list[datetime] = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        for open_at, close_at in _intervals(agent, day, zone):
            slot = open_at
            for _slot in range(MAX_SLOTS_PER_INTERVAL):
                if slot + length > close_at:
                    break
                blocked = slot + step
                if slot >= now + MIN_LEAD_TIME and not any(s < blocked and slot < b for s, b in booked):
                    free.append(slot)
                    if len(free) >= limit:
                        return free
                slot += step
    return free


def slot_is_open(*, agent: Agent, start: datetime) -> bool:
    zone = client_zone()
    local = start.astimezone(zone)
    length = timedelta(minutes=agent.appointment_minutes)
    return any(open_at <= local and local + length <= close_at for open_at, close_at in
               _intervals(agent, local.date(), zone))


def slot_is_free(*, agent: Agent, start: datetime, now: datetime | None = None) -> bool:
    """Within opening hours, far enough ahead, and overlapping no booking (buffer included)."""
    now = now or timezone.now()
    if start < now + MIN_LEAD_TIME or not slot_is_open(agent=agent, start=start):
        return False
    blocked = start + timedelta(minutes=agent.appointment_minutes + agent.buffer_minutes)
    return not Appointment.objects.filter(agent=agent, status=Appointment.Status.BOOKED, start__lt=blocked,
                                          blocked_until__gt=start).exists()


def _reference() -> str:
    return "RDV-" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def appointment_book(*, agent: Agent, start: datetime, customer_name: str, customer_phone: str = "",
                     customer_email: str = "", notes: str = "", conversation: Any = None, notify_channel: str = "",
                     language: str = "", notice: str = "confirmed") -> Appointment:
    """Book, and plan the person's notices: the confirmation (or `notice="changed"`) at once, reminders later."""
    if timezone.is_naive(start):
        raise InvalidInput(_("The time must carry its time zone."))
    if start < timezone.now() + MIN_LEAD_TIME or start > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(_("This time cannot be booked."))
    if not slot_is_open(agent=agent, start=start):
        raise InvalidInput(_("This time is outside opening hours."))
    if not customer_name.strip():
        raise InvalidInput(_("A name is needed for the booking."))
    end = start + timedelta(minutes=agent.appointment_minutes)
    if notify_channel not in {"", "sms", "whatsapp", "email"}:
        raise InvalidInput(_("Unknown channel."))
    from apps.messaging.notices import notices_plan

    with transaction.atomic():  # the booking, its notices and its event commit together
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    agent=agent, start=start, end=end, blocked_until=end + timedelta(minutes=agent.buffer_minutes),
                    customer_name=customer_name.strip()[:120], customer_phone=customer_phone[:32],
                    customer_email=customer_email[:254], notes=notes[:2000], conversation=conversation,
                    reference=_reference(), notify_channel=notify_channel, language=language[:8],
                )
        except IntegrityError:
            raise Conflict(_("This time was just taken.")) from None
        notices_plan(appointment=appointment, event=notice)
        if notice != "changed":  # a move is one appointment.rescheduled event (appointment_reschedule)
            event_record(type="appointment.booked", data=payloads.appointment(appointment))
    return appointment


def appointment_create(*, agent_id: int, start: datetime, customer_name: str, customer_phone: str = "",
                       customer_email: str = "", notes: str = "") -> Appointment:
    """`appointment_book` for the agent with this id in the active client's schema (the REST API's booking: the
    same rules as the agent's own — opening hours, lead time, 90 days ahead, no overlap)."""
    from apps.agents.selectors import agent_get

    return appointment_book(agent=agent_get(agent_id=agent_id), start=start, customer_name=customer_name,
                            customer_phone=customer_phone, customer_email=customer_email, notes=notes)


def appointment_find(*, reference: str = "", appointment_id: int | None = None) -> Appointment:
    """The appointment by its reference (what a caller says) or its id (the REST API's)."""
    if appointment_id is not None:
        appointment = Appointment.objects.filter(pk=appointment_id).first()
    else:
        appointment = Appointment.objects.filter(reference__iexact=reference.strip()).first() if reference else None
    if appointment is None:
        raise NotFound(_("No appointment with this reference."))
    return appointment


def appointment_cancel(*, reference: str = "", appointment_id: int | None = None) -> Appointment:
    appointment = appointment_find(reference=reference, appointment_id=appointment_id)
    from apps.messaging.notices import notices_plan

    with transaction.atomic():
        if Appointment.objects.filter(pk=appointment.pk).exclude(status=Appointment.Status.CANCELLED).update(
                status=Appointment.Status.CANCELLED):
            appointment.status = Appointment.Status.CANCELLED
            notices_plan(appointment=appointment, event="cancelled")
            event_record(type="appointment.cancelled", data=payloads.appointment(appointment))
    return appointment


def appointment_reschedule(*, start: datetime, reference: str = "", appointment_id: int | None = None
                           ) -> Appointment:
    """Cancel and book in one transaction: if the new time fails, the old booking stays."""
    old = appointment_find(reference=reference, appointment_id=appointment_id)
    if old.status == Appointment.Status.CANCELLED:
        raise Conflict(_("This appointment was cancelled."))
    from apps.messaging.notices import notices_plan

    with transaction.atomic():
        old.status = Appointment.Status.CANCELLED
        old.save(update_fields=["status"])
        notices_plan(appointment=old, event="moved")  # its reminders are dropped; the new booking says "changed"
        new = appointment_book(agent=old.agent, start=start, customer_name=old.customer_name,
                               customer_phone=old.customer_phone, customer_email=old.customer_email,
                               notes=old.notes, conversation=old.conversation, notify_channel=old.notify_channel,
                               language=old.language, notice="changed")
        event_record(type="appointment.rescheduled", data={
            **payloads.appointment(new), "previous_reference": old.reference,
            "previous_start": old.start.isoformat()})
    return new
