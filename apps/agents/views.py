"""Dashboard pages for agents: list, create through the configurator, edit, live test chat."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.agents import engine
from apps.agents.configurator import BusinessInfo, Detection, Draft, agent_create_from_draft, configure
from apps.agents.forms import AgentForm, BusinessForm, DraftSaveForm, SectorForm
from apps.agents.models import Agent
from apps.agents.reading import hours_say
from apps.agents.sectors import sector, sector_name
from apps.agents.services import agent_sector_change, agent_update
from apps.agents.tools import TOOLS, tool_label
from apps.clients.entitlements import client_may
from apps.conversations.models import Conversation
from apps.conversations.services import conversation_start
from apps.core.errors import PermissionDenied
from apps.core.inputs import body_object, int_field, text_field
from apps.dashboard.views import _require_manage

DRAFT_SESSION_KEY = "vocalia_agent_draft"


def agents_list(request: HttpRequest) -> HttpResponse:
    agents = Agent.objects.all()
    return render(request, "agents/list.html", {"agents": agents})


def agent_new(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    client = request.client  # type: ignore[attr-defined]
    if Agent.objects.exists() and not client_may(client, "multi_agent"):
        raise PermissionDenied(_("Your plan includes one agent. Upgrade to add more."))
    form = BusinessForm(request.POST or None, initial={"language": client.default_language, "name": client.name})
    if request.method == "POST" and form.is_valid():
        draft = configure(BusinessInfo(**form.cleaned_data))
        request.session[DRAFT_SESSION_KEY] = draft.as_dict()
        return redirect("agent-review")
    return render(request, "agents/new.html", {"form": form})


def _draft_from_session(request: HttpRequest) -> Draft | None:
    data = request.session.get(DRAFT_SESSION_KEY)
    if not data:
        return None
    data = dict(data)
    data["business"] = BusinessInfo(**data["business"])
    data["detection"] = Detection(**data["detection"])
    return Draft(**data)


def agent_review(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    draft = _draft_from_session(request)
    if draft is None:
        return redirect("agent-new")
    if request.method == "POST" and "sector" in request.POST:  # another sector: the draft is made again
        sector_form = SectorForm(request.POST)
        if sector_form.is_valid():
            draft = configure(draft.business, sector_code=sector_form.cleaned_data["sector"])
            request.session[DRAFT_SESSION_KEY] = draft.as_dict()
            messages.success(request, _("Sector changed: the draft follows the new sector's template."))
            return redirect("agent-review")
    form = DraftSaveForm((request.POST or None) if "sector" not in request.POST else None, initial={
        "name": draft.name, "tools": [tool["name"] for tool in draft.tools], "languages": draft.languages,
        "with_faq": True})
    if request.method == "POST" and form.is_valid():
        agent = agent_create_from_draft(draft=draft, name=form.cleaned_data["name"], tools=form.cleaned_data["tools"],
                                        languages=form.cleaned_data["languages"],
                                        with_faq=form.cleaned_data["with_faq"])
        request.session.pop(DRAFT_SESSION_KEY, None)
        messages.success(request, _("Agent “%(name)s” created. Try it below.") % {"name": agent.name})
        return redirect("agent-edit", agent_id=agent.pk)
    language = draft.default_language
    template = sector(draft.detection.sector)
    context = {
        "draft": draft, "form": form, "sector_name": template["names"].get(language, draft.detection.sector),
        "confidence_percent": round(draft.detection.confidence * 100),
        "texts": draft.texts[language], "faq": draft.faq[language][:4],
        "tool_reasons": {tool["name"]: tool["reason"] for tool in draft.tools},
        "sector_form": SectorForm(initial={"sector": draft.detection.sector}),
        "hours": hours_say(draft.business_hours, language) if draft.business_hours else "",
    }
    return render(request, "agents/review.html", context)


def agent_edit(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(Agent, pk=agent_id)
    form = AgentForm(request.POST or None, instance=agent)
    if request.method == "POST":
        _require_manage(request)  # before the form's errors; agent_update checks again
    if request.method == "POST" and form.is_valid():
        agent_update(client=request.client, agent=agent, actor=request.user,  # type: ignore[attr-defined]
                     values=form.agent_values(), texts=form.agent_texts(),
                     api_key=form.cleaned_data.get("api_key") or "",
                     clear_api_key=bool(form.cleaned_data.get("clear_api_key")), ip=request.META.get("REMOTE_ADDR"))
        messages.success(request, _("Agent saved."))
        return redirect("agent-edit", agent_id=agent.pk)
    return render(request, "agents/edit.html", {"agent": agent, "form": form, "tools": TOOLS,
                                                "has_key": bool(agent.api_key),
                                                "sector_form": SectorForm(initial={"sector": agent.sector}),
                                                "sector_name": sector_name(agent.sector)})


@require_POST
def agent_sector(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Give the agent another sector (the agent page's "Sector" card)."""
    _require_manage(request)
    agent = get_object_or_404(Agent, pk=agent_id)
    form = SectorForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a sector from the list."))
        return redirect("agent-edit", agent_id=agent.pk)
    agent = agent_sector_change(client=request.client, agent=agent, actor=request.user,  # type: ignore[attr-defined]
                                sector=form.cleaned_data["sector"], replace_faq=form.cleaned_data["replace_faq"],
                                ip=request.META.get("REMOTE_ADDR"))
    messages.success(request, _("Sector changed to %(sector)s: its greeting, instructions, tools and appointment "
                                "length now apply.") % {"sector": sector_name(agent.sector)})
    return redirect("agent-edit", agent_id=agent.pk)


def _event_json(event: Any) -> dict[str, Any]:
    kind = type(event).__name__
    data = {key: value for key, value in vars(event).items()}
    if isinstance(event, engine.ToolCalled | engine.ToolReturned):
        data["label"] = tool_label(event.name)  # what the chat shows, never the tool's code name
    return {"type": kind, **data}


@require_POST
def agent_chat(request: HttpRequest, agent_id: int) -> JsonResponse:
    """One turn of the dashboard's live test chat (JSON in, the turn's events out)."""
    agent = get_object_or_404(Agent, pk=agent_id)
    payload = body_object(request)
    conversation_id, text = int_field(payload, "conversation"), text_field(payload, "text")
    language = text_field(payload, "language", limit=10) or agent.default_language
    conversation = None
    if conversation_id:
        conversation = Conversation.objects.filter(pk=conversation_id, agent=agent,
                                                   channel=Conversation.Channel.DASHBOARD).first()
    if conversation is None or conversation.ended is not None:
        conversation = conversation_start(agent=agent, channel=Conversation.Channel.DASHBOARD, language=language,
                                          visitor_id=f"dashboard:{request.user.pk}")
    events = engine.turn_run(client=request.client, conversation_id=conversation.pk,  # type: ignore[attr-defined]
                             text=text)
    return JsonResponse({"conversation": conversation.pk, "events": [_event_json(e) for e in events]})
