from django.urls import path

from apps.calls import views

urlpatterns = [
    path("", views.calls, name="calls"),
    path("<int:call_id>/", views.call, name="call"),
    path("<int:call_id>/recording/", views.call_recording, name="call-recording"),
    path("numbers/", views.numbers, name="phone-numbers"),
    path("try/", views.simulator, name="phone-simulator"),
    path("agents/<int:agent_id>/phone/", views.agent_phone, name="agent-phone"),
]
