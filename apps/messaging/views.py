from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.messaging.models import OutboxMessage


def outbox(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/outbox.html", {"outbox": OutboxMessage.objects.all()[:500]})
