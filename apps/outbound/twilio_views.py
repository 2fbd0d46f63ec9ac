"""Twilio's requests about the calls we place: who answered (the answer URL) and how it went (status callback).

Both are signature-checked by `twilio_webhook` (routed by our number, the call's `From`) and carry the signed
call token we gave Twilio; the token must name the schema the number routes to."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django_tenants.utils import tenant_context
from twilio.twiml.voice_response import VoiceResponse

from apps.core.errors import NotFound
from apps.outbound.services import Answer, call_for_token, call_token, outbound_answered, outbound_status
from apps.telephony.webhooks import TwilioHook, public_url, twilio_webhook

SAY_LANGUAGES = {"fr": "fr-FR", "en": "en-US", "es": "es-ES", "ar": "arb", "ary": "arb"}  # no Darija voice


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _answer_twiml(answer: Answer, token: str) -> VoiceResponse:
    response = VoiceResponse()
    if answer.kind == "agent":
        # The agent takes the call through the phone's own voice endpoint, told which outbound call it is.
        response.redirect(public_url(f"/telephony/twilio/voice?outbound={token}"), method="POST")
        return response
    if answer.kind == "voicemail" and answer.text:
        response.say(answer.text, language=SAY_LANGUAGES.get(answer.language, "en-US"))
    response.hangup()
    return response


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
