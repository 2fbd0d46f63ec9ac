"""Dashboard: calls (list with filters, one call), the recording played through our server, phone numbers."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from apps.calls.forms import PhoneSettingsForm
from apps.calls.models import Call
from apps.calls.playback import recording_audio
from apps.calls.selectors import agent_for_phone, call_detail, call_timeline, call_transcript, calls_list
from apps.calls.services import phone_settings_for, phone_settings_update
from apps.core.dates import date_input_value
from apps.core.inputs import query_date, text_clean
from apps.telephony.selectors import client_numbers


def calls(request: HttpRequest) -> HttpResponse:
    status, direction = request.GET.get("status", ""), request.GET.get("direction", "")
    number = "".join(ch for ch in text_clean(request.GET.get("number", "")) if ch.isdigit() or ch == "+")[:16]
    since = query_date(request.GET.get("from", ""), field="from")
    until = query_date(request.GET.get("to", ""), field="to")
    rows = calls_list(status=status if status in Call.Status.values else "",
                      direction=direction if direction in Call.Direction.values else "", number=number,
                      since=since, until=until)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "calls/list.html", {
        "page": page, "statuses": Call.Status.choices, "directions": Call.Direction.choices,
        "filters": {"status": status, "direction": direction, "number": number,
                    "from": date_input_value(since, request.GET.get("from", "")),
                    "to": date_input_value(until, request.GET.get("to", ""))}})


def call(request: HttpRequest, call_id: int) -> HttpResponse:
    found = call_detail(call_id=call_id)
    if found is None:
        raise Http404
    return render(request, "calls/detail.html", {"call": found, "messages_": call_transcript(call=found),
                                                 "timeline": call_timeline(call=found)})


def call_recording(request: HttpRequest, call_id: int) -> HttpResponse:
    """The recording's audio, fetched with the account's credentials by our server (never Twilio's URL)."""
    found = call_detail(call_id=call_id)
    if found is None or not found.recording_sid:
        raise Http404
    audio = recording_audio(call=found, client=request.client)  # type: ignore[attr-defined]
    response = HttpResponse(audio, content_type="audio/wav")
    response["Cache-Control"] = "private, no-store"
    return response


def numbers(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/numbers.html", {"numbers": client_numbers(client=request.client)})  # type: ignore[attr-defined]


def agent_phone(request: HttpRequest, agent_id: int) -> HttpResponse:
    """The agent page's phone settings: mode, voice per language, consent, recording, hand-over number."""
    agent = agent_for_phone(agent_id=agent_id)
    if agent is None:
        raise Http404
    current = phone_settings_for(agent)
    form = PhoneSettingsForm(request.POST or None, initial=PhoneSettingsForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        phone_settings_update(client=request.client, agent=agent, actor=request.user,  # type: ignore[attr-defined]
                              values=form.values(), ip=request.META.get("REMOTE_ADDR"))
        messages.success(request, _("Phone settings saved."))
        return redirect("agent-phone", agent_id=agent.pk)
    return render(request, "calls/agent_phone.html", {"agent": agent, "form": form})


def simulator(request: HttpRequest) -> HttpResponse:
    """"Call your agent": Twilio's side of a call played in the browser's place (text in, text out)."""
    numbers = [number for number in client_numbers(client=request.client) if number.voice]  # type: ignore[attr-defined]
    return render(request, "calls/simulator.html", {"number": numbers[0] if numbers else None})
