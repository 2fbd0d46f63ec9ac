"""Dashboard: conversations with filters, and one transcript."""

from __future__ import annotations

from datetime import datetime, time

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.conversations.transcript import tool_card
from apps.core.dates import date_input_value
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
        "filters": {"channel": channel, "outcome": outcome,
                    "from": date_input_value(since, request.GET.get("from", "")),
                    "to": date_input_value(until, request.GET.get("to", ""))}})


def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation.objects.select_related("agent"), pk=conversation_id)
    entries = [{"message": m, "tool": tool_card(name=m.tool_name, arguments=m.tool_args, result=m.tool_result)
                if m.role == Message.Role.TOOL else None} for m in conversation.messages.all()]
    return render(request, "conversations/detail.html", {"conversation": conversation, "entries": entries})
