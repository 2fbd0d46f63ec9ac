"""`Authorization: Bearer sk_…` → the client; the request then runs in the client's schema."""

from __future__ import annotations

from typing import Any

from django.db import connection
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.clients.models import Client
from apps.clients.selectors import client_by_secret_key
from apps.core.errors import ClientUnavailable, InvalidKey, NotAuthenticated
from apps.core.ratelimit import rate_limit_hit


class ApiClient:
    """The authenticated principal of an API request: a client, not a person."""

    is_authenticated = True
    is_staff = False
    email = ""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.email = f"api@{client.slug}"


class SecretKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, Client] | None:
        header = request.headers.get("Authorization", "")
        if not header:
            raise NotAuthenticated("Send your secret key as `Authorization: Bearer sk_…`.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidKey("Malformed Authorization header: expected `Bearer sk_…`.")
        client = client_by_secret_key(token.strip())
        if client is None:
            raise InvalidKey()
        if client.status != Client.Status.ACTIVE:
            raise ClientUnavailable()
        rate_limit_hit(scope="api", identity=str(client.pk), limit=client.plan.requests_per_minute)
        connection.set_tenant(client)
        request._request.client = client  # type: ignore[attr-defined]
        return ApiClient(client), client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class HasClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, ApiClient)
