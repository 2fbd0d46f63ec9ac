"""Dashboard: conversations with filters, and one transcript."""

from __future__ import annotations

from datetime import datetime, time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.conversations.models import Conversation
from apps.core.inputs import query_date


def conversations_list(request: HttpRequest) -> HttpResponse:
    rows = Conversation.objects.select_related("agent").order_by("-started", "-id")
    channel, outcome = request.GET.get("channel", ""), request.GET.get("outcome", "")
    since = query_date(request.GET.get("from", ""), field="from")
    until = query_date(request.GET.get("to", ""), field="to")
    if channel in Conversation.Channel.values:
        rows = rows.filter(channel=channel)
    if outcome in Conversation.Outcome.values:
        rows = rows.filter(outcome=outcome)
    zone = timezone.get_current_timezone()
    if since:
        rows = rows.filter(started__gte=datetime.combine(since, time.min, zone))
    if until:
        rows = rows.filter(started__lte=datetime.combine(until, time.max, zone))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "conversations/list.html", {
        "page": page, "channels": Conversation.Channel.choices, "outcomes": Conversation.Outcome.choices,
        "filters": {"channel": channel, "outcome": outcome, "from": request.GET.get("from", ""),
                    "to": request.GET.get("to", "")}})


def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation.objects.select_related("agent"), pk=conversation_id)
    return render(request, "conversations/detail.html", {"conversation": conversation,
                                                         "messages_list": conversation.messages.all()})
