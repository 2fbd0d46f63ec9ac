from django.urls import path

from apps.outbound import twilio_views

urlpatterns = [
    path("answer", twilio_views.answer, name="twilio-outbound-answer"),
    path("status", twilio_views.status, name="twilio-outbound-status"),
]
