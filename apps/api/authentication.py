"""`Authorization: Bearer sk_…` → the client; the request then runs in the client's schema."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.clients.entitlements import client_require
from apps.clients.models import Client
from apps.clients.principals import ApiActor
from apps.clients.selectors import client_by_secret_key
from apps.core.errors import ClientUnavailable, InvalidKey, NotAuthenticated
from apps.core.ratelimit import rate_limit_take

ApiClient = ApiActor  # the principal of an API request (apps/clients/principals.py): services accept it as an actor


class SecretKeyAuthentication(BaseAuthentication):
    """Finds the client, counts the request against the plan's requests per minute (the window is kept on the
    request for the `RateLimit-*` headers of the answer) and enters the client's schema."""

    def authenticate(self, request: Request) -> tuple[ApiActor, Client] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            self._count_unknown(request)
            raise NotAuthenticated("Send your secret key as `Authorization: Bearer sk_…`.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            self._count_unknown(request)
            raise InvalidKey("Malformed Authorization header: expected `Bearer sk_…`.")
        client = client_by_secret_key(token.strip())
        if client is None:
            self._count_unknown(request)
            raise InvalidKey()
        if client.status != Client.Status.ACTIVE:
            raise ClientUnavailable()
        request._request.api_rate = rate_limit_take(  # type: ignore[attr-defined]
            scope="api", identity=str(client.pk), limit=client.plan.requests_per_minute)
        connection.set_tenant(client)
        request._request.client = client  # type: ignore[attr-defined]
        return ApiActor(client), client

    @staticmethod
    def _count_unknown(request: Request) -> None:
        """A request without a valid key is counted per address (API_UNAUTHENTICATED_PER_MINUTE): guessing keys
        is slowed down, and its 401 carries `RateLimit-*` headers like every other answer."""
        request._request.api_rate = rate_limit_take(  # type: ignore[attr-defined]
            scope="api-anonymous", identity=str(request.META.get("REMOTE_ADDR", "")),
            limit=settings.API_UNAUTHENTICATED_PER_MINUTE)

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, ApiActor)


class HasApiAccess(HasClient):
    """The client's plan includes `api_access` (403 `feature_not_in_plan` otherwise)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        client_require(request.auth, "api_access")
        return True
