from django.urls import path

from apps.telephony import views

urlpatterns = [
    path("voice", views.voice, name="telephony-voice"),
    path("status", views.status, name="telephony-status"),
    path("recording", views.recording, name="telephony-recording"),
    path("relay/action", views.relay_action, name="telephony-relay-action"),
    path("dial/action", views.dial_action, name="telephony-dial-action"),
    path("gather", views.gather, name="telephony-gather"),
    path("callback", views.callback, name="telephony-callback"),
    path("whisper", views.whisper, name="telephony-whisper"),
    path("whisper/status", views.whisper_status, name="telephony-whisper-status"),
]
