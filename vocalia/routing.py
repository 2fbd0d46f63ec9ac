"""WebSocket routes. Sessions and users only where a person is logged in: the widget's visitors are anonymous."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from apps.dashboard.consumers import DashboardLiveConsumer
from apps.widget.voice import WidgetVoiceConsumer

websocket_urlpatterns = [
    path("ws/dashboard/live/", AuthMiddlewareStack(DashboardLiveConsumer.as_asgi())),
    path("ws/widget/v1/voice/", WidgetVoiceConsumer.as_asgi()),
]
