"""WebSocket routes. Sessions and users only where a person is logged in: the widget's visitors are anonymous."""

from channels.auth import AuthMiddlewareStack
from django.urls import path, re_path

from apps.calls.simulator_socket import PhoneSimulatorConsumer
from apps.dashboard.consumers import DashboardLiveConsumer
from apps.telephony.consumers import RelayConsumer
from apps.telephony.media import MediaStreamConsumer
from apps.widget.voice import WidgetVoiceConsumer

websocket_urlpatterns = [
    path("ws/dashboard/live/", AuthMiddlewareStack(DashboardLiveConsumer.as_asgi())),
    path("ws/dashboard/phone-simulator/", AuthMiddlewareStack(PhoneSimulatorConsumer.as_asgi())),
    path("ws/widget/v1/voice/", WidgetVoiceConsumer.as_asgi()),
    re_path(r"^ws/twilio/relay/(?P<number>[1-9][0-9]{6,14})/$", RelayConsumer.as_asgi()),
    re_path(r"^ws/twilio/media/(?P<number>[1-9][0-9]{6,14})/$", MediaStreamConsumer.as_asgi()),
]
