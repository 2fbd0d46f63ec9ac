from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.integrations.selectors import deliveries_recent


def outbox(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/outbox.html", {"outbox": deliveries_recent(limit=500)})
