"""The widget handler's own middleware (settings.WIDGET_MIDDLEWARE, after the last resort; vocalia/asgi.py).

What the public widget API needs from the usual stack, and nothing else: the public URLconf (the client
comes from the key, not the host), the visitor's language for error messages, the security headers,
and `VocaliaError` → JSON for anything a view did not catch. Async-capable, so an async view
(`/messages`) runs on the event loop without a thread hop through sync middleware.
"""

from __future__ import annotations

from collections.abc import Awaitable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import set_urlconf
from django.utils import translation

from apps.core.errors import exception_response
from apps.core.middleware import SyncAndAsyncMiddleware, unknown_address_response


class WidgetEntryMiddleware(SyncAndAsyncMiddleware):
    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        self._enter(request)
        return self._headers(unknown_address_response(request) or self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        self._enter(request)
        return self._headers(unknown_address_response(request) or await self.get_response(request))

    @staticmethod
    def _enter(request: HttpRequest) -> None:
        request.client = None  # type: ignore[attr-defined]
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
        set_urlconf(request.urlconf)  # type: ignore[attr-defined]
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]

    @staticmethod
    def _headers(response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception)
