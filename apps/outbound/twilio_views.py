"""Twilio's requests about the calls we place: who answered (the answer URL) and how it went (status callback).

Both are signature-checked by `twilio_webhook` (routed by our number, the call's `From`) and carry the signed
call token we gave Twilio; the token must name the schema the number routes to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django_tenants.utils import tenant_context
from twilio.twiml.voice_response import VoiceResponse

from apps.core.errors import NotFound
from apps.outbound.services import Answer, call_for_token, call_token, outbound_answered, outbound_status
from apps.telephony import twiml
from apps.telephony.webhooks import TwilioHook, public_url, twilio_webhook


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/xml")


def _answer_twiml(answer: Answer, token: str) -> str:
    if answer.kind == "agent":
        # The agent takes the call through the phone's own voice endpoint, told which outbound call it is.
        response = VoiceResponse()
        response.redirect(public_url(f"/telephony/twilio/voice?outbound={token}"), method="POST")
        return str(response)
    if answer.kind == "voicemail" and answer.text:
        return twiml.say_hangup(answer.text, answer.language)  # the phone's voice per language (Darija: its fallback)
    return twiml.hangup()


def _route_schema(hook: TwilioHook) -> object:
    if hook.route is None or hook.route.client is None:
        raise NotFound()
    return hook.route.client


@twilio_webhook(number_params=("From", "To"))
def answer(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    client = _route_schema(hook)
    with tenant_context(client):
        call = call_for_token(token=request.GET.get("t", ""), schema=client.schema_name)  # type: ignore[attr-defined]
        result = outbound_answered(call=call, answered_by=hook.get("AnsweredBy"))
        token = call_token(call)
    return _twiml(_answer_twiml(result, token))


@twilio_webhook(number_params=("From", "To"))
def status(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    client = _route_schema(hook)
    with tenant_context(client):
        call = call_for_token(token=request.GET.get("t", ""), schema=client.schema_name)  # type: ignore[attr-defined]
        outbound_status(call=call, status=hook.get("CallStatus"), duration=hook.get("CallDuration"))
    return HttpResponse(status=204)
