"""Dashboard: outbound calls (place one, cancel one), the do-not-call list and the calling hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import InvalidInput
from apps.outbound import services
from apps.outbound.forms import CallForm, DncForm, PolicyForm
from apps.outbound.models import OutboundCall
from apps.outbound.selectors import outbound_page


def _policy_initial() -> dict:
    row = services.policy()
    return {"start": row.start, "end": row.end, "weekdays": row.days(), "max_attempts": row.max_attempts,
            "retry_minutes": row.retry_minutes, "voicemail": row.voicemail, "callbacks_auto": row.callbacks_auto}


def _page(request: HttpRequest, *, call_form: CallForm | None = None, dnc_form: DncForm | None = None,
          policy_form: PolicyForm | None = None, status: int = 200) -> HttpResponse:
    context = outbound_page()
    context.update(call_form=call_form or CallForm(initial={"language": request.client.default_language}),  # type: ignore[attr-defined]
                   dnc_form=dnc_form or DncForm(), policy_form=policy_form or PolicyForm(initial=_policy_initial()))
    return render(request, "outbound/page.html", context, status=status)


def outbound(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def call_request(request: HttpRequest) -> HttpResponse:
    form = CallForm(request.POST)
    if not form.is_valid():
        return _page(request, call_form=form, status=400)
    data = form.cleaned_data
    try:
        services.outbound_call_request(
            client=request.client, to=data["to"], reason=data["reason"], name=data["name"],  # type: ignore[attr-defined]
            language=data["language"], consent_source=data["consent_source"] if data["consent"] else "",
            actor=request.user)
    except InvalidInput as error:
        form.add_error(None, error.message)
        return _page(request, call_form=form, status=400)
    messages.success(request, _("The call is scheduled: the agent places it within the calling hours."))
    return redirect("outbound")


@require_POST
def call_cancel(request: HttpRequest, call_id: int) -> HttpResponse:
    services.outbound_cancel(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                             call=get_object_or_404(OutboundCall, pk=call_id))
    messages.success(request, _("Call cancelled."))
    return redirect("outbound")


@require_POST
def dnc_add(request: HttpRequest) -> HttpResponse:
    form = DncForm(request.POST)
    if not form.is_valid():
        return _page(request, dnc_form=form, status=400)
    try:
        services.dnc_add(client=request.client, actor=request.user, phone=form.cleaned_data["phone"],  # type: ignore[attr-defined]
                         reason=form.cleaned_data["reason"])
    except InvalidInput as error:
        form.add_error("phone", error.message)
        return _page(request, dnc_form=form, status=400)
    messages.success(request, _("The agent will never call this number."))
    return redirect("outbound")


@require_POST
def dnc_remove(request: HttpRequest) -> HttpResponse:
    services.dnc_remove(client=request.client, actor=request.user, phone=request.POST.get("phone", ""))  # type: ignore[attr-defined]
    messages.success(request, _("Number taken off the do-not-call list."))
    return redirect("outbound")


@require_POST
def policy_update(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, policy_form=form, status=400)
    services.policy_update(client=request.client, actor=request.user, values=form.cleaned_data)  # type: ignore[attr-defined]
    messages.success(request, _("Calling hours saved."))
    return redirect("outbound")
