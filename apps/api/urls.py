from django.urls import path

from apps.api.views import MeApi

urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
]
