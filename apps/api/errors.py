"""DRF answers in the same `{"error": {...}}` shape as the rest of the platform."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.errors import VocaliaError


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, VocaliaError):
        return Response({"error": {"code": exc.code, "message": exc.message}}, status=exc.status, headers=exc.headers)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ParseError):
        code, message = "malformed_json", str(exc.detail)
    elif isinstance(exc, drf_exceptions.ValidationError):
        code, message = "invalid_input", _("The request is not valid.")
        response.data = {"error": {"code": code, "message": str(message), "fields": exc.detail}}
        return response
    elif isinstance(exc, drf_exceptions.APIException):
        code, message = exc.default_code, str(exc.detail)
    else:  # pragma: no cover - exception_handler only answers APIException and Http404/PermissionDenied
        code, message = "error", str(exc)
    if response.status_code == 404:
        code = "not_found"
    response.data = {"error": {"code": code, "message": message}}
    return response
