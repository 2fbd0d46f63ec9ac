"""Dashboard: leads (with their BANT breakdown), tickets and callbacks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.crm.models import Callback, Lead, Ticket


def leads_list(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/leads.html", {"leads": Lead.objects.select_related("conversation")[:500]})


def tickets_list(request: HttpRequest) -> HttpResponse:
    return render(request, "crm/tickets.html", {"tickets": Ticket.objects.all()[:500],
                                                "callbacks": Callback.objects.filter(status="pending")[:200]})
