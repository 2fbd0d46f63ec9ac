"""The widget handler's middleware (vocalia/asgi.py serves /widget/v1/ with it alone)."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory
from django.utils import translation

from apps.core.errors import RateLimited
from apps.widget.middleware import WidgetEntryMiddleware
from vocalia import asgi


def view(request):
    return JsonResponse({"language": translation.get_language(), "urlconf": request.urlconf})


async def async_view(request):
    return view(request)


@pytest.mark.parametrize("inner", [view, async_view])
def test_it_sets_the_public_urlconf_the_visitors_language_and_security_headers(inner, settings):
    middleware = WidgetEntryMiddleware(inner)
    request = RequestFactory().get("/widget/v1/config", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    response = middleware(request)
    if not isinstance(response, HttpResponse):
        async def wait():
            return await response
        response = async_to_sync(wait)()
    body = json.loads(response.content)
    assert body == {"language": "es", "urlconf": settings.PUBLIC_SCHEMA_URLCONF}
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Language"] == "es"


def test_uncaught_widget_errors_become_json():
    middleware = WidgetEntryMiddleware(view)
    request = RequestFactory().get("/widget/v1/config", HTTP_ACCEPT="application/json")
    response = middleware.process_exception(request, RateLimited(retry_after=7))
    assert response.status_code == 429 and response["Retry-After"] == "7"
    assert json.loads(response.content)["error"]["code"] == "rate_limited"


def test_the_widget_api_has_its_own_short_middleware_chain():
    assert asgi.WIDGET_PREFIX == "/widget/v1/"
    chain, handler = [], asgi.widget_asgi_app._middleware_chain
    while handler is not None:
        handler = getattr(handler, "__wrapped__", handler)  # convert_exception_to_response's wrapper
        chain.append(type(handler).__name__)
        handler = getattr(handler, "get_response", None)
    assert "WidgetEntryMiddleware" in chain and "SessionMiddleware" not in chain
