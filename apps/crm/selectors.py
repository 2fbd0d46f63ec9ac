"""Reads on leads, tickets and callbacks, in the active client's schema."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.core.errors import NotFound
from apps.crm.models import Callback, Lead, Ticket


def leads_list(*, status: str = "", min_score: int | None = None) -> QuerySet[Lead]:
    rows = Lead.objects.all()
    if status:
        rows = rows.filter(status=status)
    if min_score is not None:
        rows = rows.filter(score__gte=min_score)
    return rows


def lead_get(*, lead_id: int) -> Lead:
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(_("No lead with this id."))
    return lead


def tickets_list(*, status: str = "", priority: str = "") -> QuerySet[Ticket]:
    rows = Ticket.objects.all()
    if status:
        rows = rows.filter(status=status)
    if priority:
        rows = rows.filter(priority=priority)
    return rows


def ticket_get(*, ticket_id: int) -> Ticket:
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("No ticket with this id."))
    return ticket


def callbacks_list(*, status: str = "") -> QuerySet[Callback]:
    rows = Callback.objects.all()
    return rows.filter(status=status) if status else rows


def callback_get(*, callback_id: int) -> Callback:
    callback = Callback.objects.filter(pk=callback_id).first()
    if callback is None:
        raise NotFound(_("No callback with this id."))
    return callback
