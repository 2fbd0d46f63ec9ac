"""Reads on appointments, in the active client's schema."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.bookings.models import Appointment
from apps.core.errors import NotFound


def appointments_list(*, status: str = "", agent_id: int | None = None) -> QuerySet[Appointment]:
    rows = Appointment.objects.all()
    if status:
        rows = rows.filter(status=status)
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    return rows


def appointment_get(*, appointment_id: int) -> Appointment:
    appointment = Appointment.objects.filter(pk=appointment_id).first()
    if appointment is None:
        raise NotFound(_("No appointment with this id."))
    return appointment
