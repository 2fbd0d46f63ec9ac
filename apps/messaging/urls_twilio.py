"""Twilio's messaging webhooks, under /telephony/twilio/messages/ on the platform host."""

from django.urls import path

from apps.messaging import webhooks

urlpatterns = [
    path("sms/", webhooks.sms_incoming, name="twilio-sms"),
    path("whatsapp/", webhooks.whatsapp_incoming, name="twilio-whatsapp"),
    path("status/", webhooks.message_status, name="twilio-message-status"),
]
