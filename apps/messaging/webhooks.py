"""Twilio's messaging webhooks (platform host): an SMS or WhatsApp message in, and the status of each message we sent.
Each request is signature-checked and routed by its number (apps.telephony.webhooks): a forged one gets 403 and
nothing is read or written. Thin: parse, call one service, answer TwiML."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.messaging.inbound import inbound_webhook, status_webhook
from apps.telephony.webhooks import TwilioHook, twilio_webhook

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml; charset=utf-8")


@twilio_webhook(number_params=("To",))
def sms_incoming(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    inbound_webhook(route=hook.route, params=hook.params, channel="sms")
    return _twiml()


@twilio_webhook(number_params=("To",))
def whatsapp_incoming(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    inbound_webhook(route=hook.route, params=hook.params, channel="whatsapp")
    return _twiml()


@twilio_webhook(number_params=("From",))
def message_status(request: HttpRequest, hook: TwilioHook) -> HttpResponse:
    status_webhook(route=hook.route, params=hook.params)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def email_inbound(request: HttpRequest, slug: str) -> HttpResponse:
    """The client's inbound-parse webhook (Mailgun / SendGrid shapes, signed per client): late bounces, replies."""
    from apps.messaging.email_inbound import content_length_check, inbound_email_webhook

    length = content_length_check(request.META.get("CONTENT_LENGTH"))  # 413 before Django reads the body
    return JsonResponse(inbound_email_webhook(slug=slug, fields=request.POST.dict(), length=length))
