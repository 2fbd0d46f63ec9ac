"""Dashboard: conversations with filters, one transcript, and the inbox (list, conversation, the team's actions).

Thin: parse, call one service or selector, render. The inbox's actions answer JSON to the page's script
(Accept: application/json) and redirect back to the conversation otherwise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.conversations import services
from apps.conversations.models import Conversation, Message
from apps.conversations.transcript import tool_card
from apps.core.dates import date_input_value
from apps.core.errors import InvalidInput, NotFound, VocaliaError, json_error, wants_json
from apps.core.inputs import int_field, query_date, text_clean


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


# --- the inbox ----------------------------------------------------------------------------------------------------

FRAGMENTS = {"list": "inbox/_list.html", "head": "inbox/_head.html", "log": "inbox/_log.html"}


def _params(request: HttpRequest) -> dict[str, str]:
    return {key: text_clean(request.GET.get(key, ""), field=key)[:20] for key in ("status", "channel", "assigned",
                                                                                    "unread", "fragment")}


def inbox(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    params = _params(request)
    page = services.inbox_page(client=request.client, actor=request.user, params=params,  # type: ignore[attr-defined]
                               conversation_id=conversation_id)
    template = FRAGMENTS.get(params["fragment"], "inbox/page.html")
    query = urlencode(page.filters.query_keys)
    return render(request, template, {
        "inbox": page, "query": query, "statuses": Conversation.Status.choices,
        "channels": [choice for choice in Conversation.Channel.choices
                     if choice[0] != Conversation.Channel.DASHBOARD],
        "replies": services.REPLY_SENDERS, "me": request.user.pk})


def _back(request: HttpRequest, conversation_id: int) -> HttpResponse:
    query = request.POST.get("query", "")
    url = f"/inbox/{conversation_id}/" + (f"?{query}" if query and query.isascii() and len(query) < 300 else "")
    return redirect(url)


def _act(request: HttpRequest, conversation_id: int, call: Callable[[], Any], done: str) -> HttpResponse:
    """Run one inbox service for the page: JSON for its script, a message and a redirect for a plain form."""
    try:
        call()
    except NotFound:
        raise
    except VocaliaError as error:
        if wants_json(request):
            return json_error(error.status, error.code, error.message, error.headers)
        messages.error(request, error.message)
        return _back(request, conversation_id)
    if wants_json(request):
        return JsonResponse({"ok": True, "conversation": conversation_id})
    messages.success(request, done)
    return _back(request, conversation_id)


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _who(request: HttpRequest) -> dict[str, Any]:
    return {"client": request.client, "actor": request.user, "ip": _ip(request)}  # type: ignore[attr-defined]


@require_POST
def inbox_takeover(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, lambda: services.conversation_takeover(
        conversation_id=conversation_id, **_who(request)), _("You are answering this conversation."))


@require_POST
def inbox_handback(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, lambda: services.conversation_handback(
        conversation_id=conversation_id, **_who(request)), _("The agent answers this conversation again."))


@require_POST
def inbox_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, lambda: services.conversation_reply_send(
        conversation_id=conversation_id, text=request.POST.get("text", ""), **_who(request)), _("Reply sent."))


@require_POST
def inbox_note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, lambda: services.note_create(
        conversation_id=conversation_id, text=request.POST.get("text", ""), **_who(request)), _("Note added."))


@require_POST
def inbox_assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    def call() -> Any:
        try:
            assignee = int_field(request.POST, "assignee")
        except InvalidInput:
            raise InvalidInput(_("Choose a member of the team.")) from None
        return services.conversation_assign(conversation_id=conversation_id, assignee_id=assignee, **_who(request))

    return _act(request, conversation_id, call, _("Assignment saved."))


@require_POST
def inbox_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    return _act(request, conversation_id, lambda: services.conversation_status_set(
        conversation_id=conversation_id, status=request.POST.get("status", ""), **_who(request)),
        _("Status saved."))
