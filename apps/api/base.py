"""The REST API's small base: what every endpoint shares, so a resource is a selector, a serializer and a few lines.

- `ApiView`: secret-key authentication, plan gating on `api_access`, bounded bodies (JSON: DATA_UPLOAD_MAX_MEMORY_SIZE,
  multipart: the document limit; 413 beyond), `RateLimit-*` headers on
  every answer, `Idempotency-Key` on every POST, one error format (apps/api/errors.py).
- `ListApi`: a cursor-paginated, created-at-filtered list over one selector; a subclass names its serializer and
  implements `rows(request, **kwargs)` (parse the query, call the selector, return its QuerySet).
- `list_of(serializer)`: the list envelope's schema for drf-spectacular; `ERRORS`: the error answers every
  operation documents.

Adding a resource (calls, phone numbers, webhook endpoints…): selectors and services in its app, an output
serializer and one or two views here (see apps/api/endpoints/crm.py for the smallest), its routes in
apps/api/urls.py, a test in tests/api/ (ownership included: tests/api/test_ownership.py lists every route).
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api import idempotency
from apps.api.authentication import HasApiAccess
from apps.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, list_params, paginate
from apps.api.parsers import JSON_PARSERS
from apps.clients.entitlements import client_require
from apps.core.errors import InvalidInput, PayloadTooLarge
from apps.knowledge.services import MAX_DOCUMENT_BYTES

MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES + 64 * 1024  # a multipart body: the file and its few form fields


class ApiView(APIView):
    permission_classes: ClassVar[list[Any]] = [HasApiAccess]
    parser_classes: ClassVar[list[Any]] = JSON_PARSERS
    required_feature: ClassVar[str] = ""  # a plan feature every method needs besides `api_access` (403 otherwise)
    _claim: idempotency.Claim | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.required_feature:
            client_require(request.auth, self.required_feature)
        length = str(request.META.get("CONTENT_LENGTH") or "0")
        if not (length.isascii() and length.isdigit() and len(length) <= 12):
            raise InvalidInput(_("The Content-Length header is not a number."), param="Content-Length")
        multipart = str(request.META.get("CONTENT_TYPE", "")).startswith("multipart/")
        if int(length) > (MAX_UPLOAD_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
            raise PayloadTooLarge()
        key = request.headers.get(idempotency.HEADER)
        if request.method == "POST" and key is not None:
            raw = request._request  # the body is read once here; DRF's parsers then read the same bytes
            self._claim = idempotency.idempotency_claim(
                client_id=request.auth.pk, key=key,
                request_fingerprint=idempotency.fingerprint(
                    method=request.method, path=raw.path, query=raw.META.get("QUERY_STRING", ""),
                    content_type=raw.META.get("CONTENT_TYPE", ""), body=raw.body))

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
                          ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        window = getattr(request._request, "api_rate", None)
        if window is not None:
            for name, value in window.headers().items():
                response.setdefault(name, value)
        if self._claim is not None:
            claim, self._claim = self._claim, None
            headers = {name: value for name, value in response.items()}
            idempotency.idempotency_settle(claim=claim, status=response.status_code,
                                           data=getattr(response, "data", None), headers=headers)
        return response


class ListApi(ApiView):
    """GET: one page of `rows()`, newest first by `created_field` (oldest first if not `newest_first`)."""

    serializer_class: ClassVar[type[serializers.Serializer]]
    created_field: ClassVar[str] = "created"
    newest_first: ClassVar[bool] = True

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def render_rows(self, items: list[Any]) -> Any:
        """The page's rows as data (a subclass may pass its serializer a context computed for the page)."""
        return self.serializer_class(items, many=True).data

    def get(self, request: Request, **kwargs: Any) -> Response:
        params = list_params(request.query_params)
        page = paginate(self.rows(request, **kwargs), params, created_field=self.created_field,
                        newest_first=self.newest_first)
        return Response({"object": "list", "data": self.render_rows(page.items),
                         "has_more": page.has_more, "next_cursor": page.next_cursor})


# --- documentation helpers (drf-spectacular) ------------------------------------------------------------------

class ErrorSerializer(serializers.Serializer):
    class Detail(serializers.Serializer):
        type = serializers.CharField(help_text="invalid_request, authentication_error, permission_error, "
                                               "not_found, conflict, rate_limit_error or api_error.")
        code = serializers.CharField(help_text="The precise reason, e.g. invalid_input, invalid_key, "
                                               "feature_not_in_plan, idempotency_key_reused.")
        message = serializers.CharField()
        param = serializers.CharField(allow_null=True, help_text="The field, query parameter or header at fault.")
        fields = serializers.DictField(required=False, help_text="Validation errors by field (400 invalid_input).")

    error = Detail()


ERROR_STATUSES = {
    400: "Invalid request (a field, a query parameter or the body).",
    401: "No key, or a malformed, unknown, revoked or expired key.",
    403: "The plan has no `api_access`, or the client is suspended.",
    404: "No such object for this key's client (another client's id included).",
    405: "Method not allowed on this path.",
    406: "Only `application/json` answers are available.",
    409: "Conflict (a slot just taken, a cancelled appointment, the same Idempotency-Key still running).",
    413: "The body is too large.",
    415: "Unsupported Content-Type.",
    422: "The Idempotency-Key was used with other parameters.",
    429: "Too many requests: see `Retry-After` and `RateLimit-*`.",
    502: "The provider (Twilio) did not answer as it should: try again later.",
}
COMMON_STATUSES = tuple(status for status in ERROR_STATUSES if status != 502)  # 502: only where a provider is asked
ERROR_EXAMPLE = {"error": {"type": "not_found", "code": "not_found", "message": "No lead with this id.",
                           "param": None}}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_STATUSES[status])
            for status in statuses or COMMON_STATUSES}


@cache
def list_of(serializer: type[serializers.Serializer]) -> Any:
    name = serializer.__name__.removesuffix("Serializer")
    return inline_serializer(name=f"{name}List", fields={
        "object": serializers.ChoiceField(choices=["list"]),
        "data": serializer(many=True),
        "has_more": serializers.BooleanField(),
        "next_cursor": serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page."),
    })


LIST_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
                     ),
    OpenApiParameter("cursor", str, description="`next_cursor` of the previous page."),
    OpenApiParameter("created_after", str, description="Only objects created after this ISO 8601 date or "
                                                      "date-time (UTC when no offset)."),
    OpenApiParameter("created_before", str, description="Only objects created before this ISO 8601 date or "
                                                       "date-time."),
]
