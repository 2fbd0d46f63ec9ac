"""One exception hierarchy, mapped to HTTP answers in one place.

Services raise these; entry points never build error responses by hand.
JSON surfaces (`/api/`, `/widget/`, `/telephony/`) get `{"error": {"type", "code", "message", "param"}}`;
dashboard pages get a rendered page in the visitor's language.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.debug import ExceptionReporter

JSON_PREFIXES = ("/api/", "/widget/", "/telephony/", "/healthz", "/readyz")


class VocaliaError(Exception):
    status = 400
    code = "bad_request"
    default_message = _("The request could not be processed.")

    def __init__(self, message: Any = None, *, headers: dict[str, str] | None = None, param: str | None = None
                 ) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.headers = headers or {}
        self.param = param  # the request parameter at fault (a field, a query parameter, a header), if one is
        super().__init__(self.message)


class InvalidInput(VocaliaError):
    status = 400
    code = "invalid_input"
    default_message = _("The request is not valid.")


class NotAuthenticated(VocaliaError):
    status = 401
    code = "not_authenticated"
    default_message = _("Authentication is required.")


class InvalidKey(VocaliaError):
    status = 401
    code = "invalid_key"
    default_message = _("The key is missing, malformed, revoked or unknown.")


class PermissionDenied(VocaliaError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class OriginNotAllowed(PermissionDenied):
    code = "origin_not_allowed"
    default_message = _("This website is not on the client's list of allowed domains.")


class FeatureNotInPlan(PermissionDenied):
    code = "feature_not_in_plan"
    default_message = _("The client's plan does not include this feature.")


class NotFound(VocaliaError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(VocaliaError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class Unprocessable(VocaliaError):
    status = 422
    code = "unprocessable"
    default_message = _("The request is well formed but cannot be processed.")


class PayloadTooLarge(VocaliaError):
    status = 413
    code = "payload_too_large"
    default_message = _("The request body is too large.")


class RateLimited(VocaliaError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many requests. Try again later.")

    def __init__(self, message: Any = None, *, retry_after: int = 60) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class QuotaExceeded(RateLimited):
    code = "quota_exceeded"
    default_message = _("The client's plan quota is used up for this period.")


class ClientUnavailable(VocaliaError):
    status = 403
    code = "client_unavailable"
    default_message = _("This account is not available.")


class ServicePaused(VocaliaError):
    """Billing suspended the client (unpaid past its grace period): data kept, the service waits for payment."""

    status = 403
    code = "service_paused"
    default_message = _("This service is paused for now. Please contact the business directly.")


class ProviderError(VocaliaError):
    status = 502
    code = "provider_error"
    default_message = _("An external service did not answer correctly.")

    def __init__(self, message: Any = None, *, permanent: bool = False, address_refused: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent or address_refused
        # The recipient's address itself was refused (an SMTP 5xx on RCPT TO, Twilio's 21211 / 21610): recorded on
        # the person's contact as a bounce, so nothing more is sent there.
        self.address_refused = address_refused


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get("Accept", "")


# The `type` of an error answer: the family a client's code branches on (Stripe-like); `code` is the precise reason.
ERROR_TYPES = {400: "invalid_request", 401: "authentication_error", 403: "permission_error", 404: "not_found",
               405: "invalid_request", 406: "invalid_request", 409: "conflict", 413: "invalid_request",
               415: "invalid_request", 422: "invalid_request", 429: "rate_limit_error"}


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request")


def error_body(status: int, code: str, message: str, param: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one error shape of every JSON surface: `{"error": {"type", "code", "message", "param"}}`."""
    return {"error": {"type": error_type(status), "code": code, "message": str(message), "param": param, **extra}}


def json_error(status: int, code: str, message: str, headers: dict[str, str] | None = None,
               param: str | None = None) -> JsonResponse:
    response = JsonResponse(error_body(status, code, message, param), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(request: HttpRequest, error: VocaliaError) -> HttpResponse:
    if wants_json(request):
        return json_error(error.status, error.code, error.message, error.headers, error.param)
    response = render(
        request, "errors/error.html", {"status": error.status, "message": error.message}, status=error.status
    )
    for name, value in error.headers.items():
        response[name] = value
    return response


def page_not_found() -> NotFound:
    """What a visitor reads for an unknown address or a missing row (never Http404's own message)."""
    return NotFound(_("Page not found."))


def exception_response(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """The HTTP answer to an exception a view let through (a middleware's process_exception), or None.

    Http404 too: handler404 would give the same page, but with DEBUG on Django would show its technical one."""
    if isinstance(exception, VocaliaError):
        return error_response(request, exception)
    if isinstance(exception, Http404):
        return error_response(request, page_not_found())
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, PayloadTooLarge())
    return None


def printable(text: str) -> str:
    """`text` with lone surrogates written as escapes, so it can always be encoded to UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def last_resort_response(request: HttpRequest) -> HttpResponse:
    """A 500 that cannot fail: no template, no request data, only the path's prefix is looked at."""
    message = "Something went wrong on our side. It has been logged."
    if str(getattr(request, "path", "")).startswith(JSON_PREFIXES):
        return JsonResponse(error_body(500, "server_error", message), status=500)
    return HttpResponse(message, status=500, content_type="text/plain; charset=utf-8")


class PrintableExceptionReporter(ExceptionReporter):
    """Django's debug page (settings.DEFAULT_EXCEPTION_REPORTER), which failed to encode itself when the
    request or a local variable held a lone surrogate, and so turned a 500 into a crash of the handler."""

    def get_traceback_html(self) -> str:
        return printable(str(super().get_traceback_html()))

    def get_traceback_text(self) -> str:
        return printable(str(super().get_traceback_text()))
