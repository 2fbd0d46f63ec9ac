"""Dashboard: appointments as a list and as a week."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.bookings.models import Appointment
from apps.core.dates import date_parse


def parse_date(value: str) -> date | None:
    """A date from a query string (ISO, or as the language writes it); None when absent, malformed, impossible
    (2026-02-30) or absurd (year 1)."""
    return date_parse(value)


def appointments(request: HttpRequest) -> HttpResponse:
    zone = ZoneInfo(request.client.timezone)  # type: ignore[attr-defined]
    today = timezone.now().astimezone(zone).date()
    start = parse_date(request.GET.get("week", "") or "") or today
    monday = start - timedelta(days=start.weekday())
    week_start = datetime.combine(monday, time.min, zone)
    rows = list(Appointment.objects.select_related("agent").filter(
        start__gte=week_start, start__lt=week_start + timedelta(days=7)).order_by("start"))
    days = [{"date": monday + timedelta(days=offset), "items": []} for offset in range(7)]
    for row in rows:
        days[row.start.astimezone(zone).weekday()]["items"].append(row)
    upcoming = Appointment.objects.select_related("agent").filter(
        start__gte=timezone.now(), status=Appointment.Status.BOOKED).order_by("start")[:100]
    return render(request, "bookings/appointments.html", {
        "days": days, "upcoming": upcoming, "zone": zone, "previous": monday - timedelta(days=7),
        "next": monday + timedelta(days=7), "monday": monday})
