"""Process-level middleware: a last resort for failures, health endpoints before anything touches a client,
and error mapping."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, get_resolver

from apps.core import health
from apps.core.errors import error_response, exception_response, last_resort_response, page_not_found

logger = logging.getLogger(__name__)


class SyncAndAsyncMiddleware:
    """A middleware that runs on the event loop under an async handler (no thread hop) and plainly under a sync
    one: subclasses write `__call__` for the sync case and `__acall__` for the async one."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)


class LastResortMiddleware(SyncAndAsyncMiddleware):
    """The outermost middleware of both handlers: whatever escapes the rest, the 500 page included, becomes a
    plain 500. Django's ASGI handler returns a request's database connection to the pool when the response
    is closed; an exception escaping the handler skipped that, and each such request kept a pooled connection
    until the instance hung (issue 8)."""

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self.__acall__(request)
        try:
            return self.get_response(request)
        except Exception:
            logger.exception("the error handling failed for a request")
            return last_resort_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        try:
            return await self.get_response(request)
        except Exception:
            logger.exception("the error handling failed for a request")
            return last_resort_response(request)


class HealthCheckMiddleware:
    """`/healthz` and `/readyz` answer on any host, before client resolution or sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return health.liveness_response()
        if request.path == "/readyz":
            return health.readiness_response()
        return self.get_response(request)


def unknown_address_response(request: HttpRequest) -> HttpResponse | None:
    """The product's 404 for an address no URL pattern matches, when DEBUG would show the list of patterns."""
    if not settings.DEBUG or settings.DEBUG_URL_LIST:
        return None
    try:
        get_resolver(getattr(request, "urlconf", None)).resolve(request.path_info)
    except Resolver404:
        return error_response(request, page_not_found())
    return None


class ErrorMappingMiddleware:
    """Turns a `VocaliaError` (or Http404) raised by any view into its HTTP answer.

    With DEBUG on, Django answers an address no pattern matches with its technical 404 page, which lists every
    URL pattern; this middleware answers it first with the product's 404 page (unless DEBUG_URL_LIST). It is the
    innermost middleware, so CommonMiddleware still turns /team into a redirect to /team/."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return unknown_address_response(request) or self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception)
