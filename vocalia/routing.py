from django.urls import path

from apps.dashboard.consumers import DashboardLiveConsumer

websocket_urlpatterns = [
    path("ws/dashboard/live/", DashboardLiveConsumer.as_asgi()),
]
