"""Leads (BANT-scored), tickets and callbacks."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.crm.models import Callback, Lead, Ticket


def bant_score(*, budget: Decimal | None, is_decision_maker: bool | None, need: str,
               timeline_days: int | None) -> dict[str, int]:
    """Budget, Authority, Need, Timeline: 25 points each, 0-100 in all."""
    budget_points = 0 if budget is None else (25 if budget > 0 else 5)
    authority_points = {True: 25, None: 10, False: 5}[is_decision_maker]
    need_text = need.strip()
    need_points = 0 if not need_text else (25 if len(need_text) >= 25 else 15)
    if timeline_days is None:
        timeline_points = 0
    elif timeline_days <= 30:
        timeline_points = 25
    elif timeline_days <= 90:
        timeline_points = 15
    else:
        timeline_points = 5
    return {"budget": budget_points, "authority": authority_points, "need": need_points,
            "timeline": timeline_points}


def lead_qualify(*, conversation: Any = None, name: str = "", email: str = "", phone: str = "", company: str = "",
                 need: str = "", budget: Any = None, currency: str = "", is_decision_maker: bool | None = None,
                 timeline: str = "", timeline_days: int | None = None) -> Lead:
    if not (name or email or phone):
        raise InvalidInput(_("A lead needs a name, an e-mail or a phone number."))
    amount: Decimal | None = None
    if budget not in (None, ""):
        try:
            amount = Decimal(str(budget)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            raise InvalidInput(_("The budget must be a number.")) from None
        if amount < 0 or amount >= Decimal("1e10"):
            raise InvalidInput(_("The budget must be a number."))
    if timeline_days is not None and not (0 <= int(timeline_days) <= 3650):
        raise InvalidInput(_("The timeline must be between 0 and 3650 days."))
    breakdown = bant_score(budget=amount, is_decision_maker=is_decision_maker, need=need,
                           timeline_days=timeline_days)
    lead = Lead.objects.filter(conversation=conversation).first() if conversation is not None else None
    lead = lead or Lead(conversation=conversation)
    for field, value in {"name": name, "email": email, "phone": phone, "company": company, "need": need,
                         "timeline": timeline}.items():
        if value:
            setattr(lead, field, str(value)[:Lead._meta.get_field(field).max_length or 5000])
    lead.budget = amount if amount is not None else lead.budget
    lead.budget_currency = (currency or lead.budget_currency)[:3].upper()
    lead.is_decision_maker = is_decision_maker if is_decision_maker is not None else lead.is_decision_maker
    lead.timeline_days = timeline_days if timeline_days is not None else lead.timeline_days
    lead.breakdown = bant_score(budget=lead.budget, is_decision_maker=lead.is_decision_maker, need=lead.need,
                                timeline_days=lead.timeline_days) if lead.pk else breakdown
    lead.score = sum(lead.breakdown.values())
    lead.save()
    return lead


def ticket_create(*, subject: str, description: str = "", priority: str = Ticket.Priority.NORMAL,
                  contact: str = "", conversation: Any = None) -> Ticket:
    if not subject.strip():
        raise InvalidInput(_("A ticket needs a subject."))
    if priority not in Ticket.Priority.values:
        priority = Ticket.Priority.NORMAL
    return Ticket.objects.create(subject=subject.strip()[:200], description=description[:5000], priority=priority,
                                 contact=contact[:200], conversation=conversation)


CALLBACK_MAX_AHEAD = timedelta(days=365)


def callback_schedule(*, phone: str, due_at: datetime, name: str = "", reason: str = "",
                      conversation: Any = None) -> Callback:
    if not phone.strip():
        raise InvalidInput(_("A phone number is needed for a callback."))
    if timezone.is_naive(due_at):
        raise InvalidInput(_("The time must carry its time zone."))
    if due_at < timezone.now():
        due_at = timezone.now()
    if due_at > timezone.now() + CALLBACK_MAX_AHEAD:
        raise InvalidInput(_("A callback can be planned up to a year ahead."))
    callback = Callback.objects.create(phone=phone.strip()[:32], due_at=due_at, name=name[:120],
                                       reason=reason[:2000], conversation=conversation)
    from apps.schedule.callbacks import callback_due_note

    callback_due_note(callback)  # the beat sweep hands it to the call task at its time (apps/schedule/callbacks.py)
    return callback
