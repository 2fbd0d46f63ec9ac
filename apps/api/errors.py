"""Every answer of the REST API that is not a success has one shape, whatever raised it:

    {"error": {"type": "invalid_request", "code": "invalid_input", "message": "…", "param": "start"}}

`type` is the family (apps/core/errors.ERROR_TYPES), `code` the precise reason, `param` the field, query
parameter or header at fault (or null); a validation error adds `fields` (every field's messages). DRF's own
exceptions (405, 406, 415, a malformed body), Django's (Http404, a body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413)
and any other exception (500, logged) are mapped here, so they keep the rate-limit headers the base view adds.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from apps.api.idempotency import Replay
from apps.core.errors import PayloadTooLarge, VocaliaError, error_body

logger = logging.getLogger(__name__)

DRF_CODES = {
    drf_exceptions.ParseError: "malformed_json",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "invalid_key",
    drf_exceptions.PermissionDenied: "forbidden",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
}


def _first_field(detail: Any) -> str | None:
    if isinstance(detail, dict) and detail:
        name = str(next(iter(detail)))
        return None if name == "non_field_errors" else name
    return None


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, Replay):
        answer = exc.answer
        return Response(answer.data, status=answer.status, headers={**answer.headers, "Idempotent-Replayed": "true"})
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(_("Not found."))
    if isinstance(exc, VocaliaError):
        return Response(error_body(exc.status, exc.code, exc.message, exc.param), status=exc.status,
                        headers=exc.headers)
    if isinstance(exc, drf_exceptions.ValidationError):
        body = error_body(400, "invalid_input", _("The request is not valid."), _first_field(exc.detail),
                          fields=exc.detail)
        return Response(body, status=400)
    if isinstance(exc, drf_exceptions.APIException):
        code = next((name for kind, name in DRF_CODES.items() if isinstance(exc, kind)), str(exc.default_code))
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        return Response(error_body(exc.status_code, code, str(exc.detail)), status=exc.status_code, headers=headers)
    logger.exception("the REST API failed on %s", context.get("request") and context["request"].path)
    return Response(error_body(500, "server_error", _("Something went wrong on our side. It has been logged.")),
                    status=500)
