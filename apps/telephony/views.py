"""Twilio's HTTP webhooks. Each view: signature checked (@twilio_webhook), one answering service, TwiML out."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from apps.telephony import answering
from apps.telephony.answering import CALL_SID_RE
from apps.telephony.webhooks import TwilioHook, twilio_webhook


def _xml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="text/xml; charset=utf-8")


def _call_param(request: HttpRequest) -> str:
    value = request.GET.get("call", "")
    return value if CALL_SID_RE.match(value) else ""


@twilio_webhook()
def voice(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.voice_answer(hook, outbound=request.GET.get("outbound", "")[:500]))


@twilio_webhook()
def status(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.status_callback(hook))


@twilio_webhook()
def recording(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.recording_callback(hook))


@twilio_webhook()
def relay_action(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.relay_action(hook))


@twilio_webhook()
def dial_action(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.dial_action(hook))


@twilio_webhook()
def gather(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.gather_turn(hook))


@twilio_webhook()
def callback(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.callback_accept(hook, request.GET.get("lang", "")[:8]))


@twilio_webhook(number_params=("From", "To"))  # the person's leg: From is our number
def whisper(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.whisper(hook, _call_param(request)))


@twilio_webhook(number_params=("From", "To"))
def whisper_status(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    return _xml(answering.whisper_status(hook, _call_param(request)))
