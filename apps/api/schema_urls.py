"""The URLconf the OpenAPI document is generated from: the REST API alone, at its public prefix."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("apps.api.urls"))]
