"""Process-level middleware: health endpoints before anything touches a client, and error mapping."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.core import health
from apps.core.errors import exception_response


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


class ErrorMappingMiddleware:
    """Turns a `VocaliaError` raised by any view into its HTTP answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return exception_response(request, exception)
