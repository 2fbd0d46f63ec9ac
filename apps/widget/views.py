"""Widget API on the platform host: a publishable key finds the client.

This issue's part: the key resolution and its errors. The widget issue adds the
origin allow-list, conversations and voice on top.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from apps.clients.entitlements import client_may
from apps.clients.models import Client
from apps.clients.selectors import client_by_publishable_key
from apps.core.errors import ClientUnavailable, InvalidKey
from apps.core.ratelimit import rate_limit_hit


def client_from_request(request: HttpRequest) -> Client:
    key = request.headers.get("X-Vocalia-Key") or request.GET.get("key", "")
    client = client_by_publishable_key(key)
    if client is None:
        raise InvalidKey()
    if client.status != Client.Status.ACTIVE:
        raise ClientUnavailable()
    rate_limit_hit(scope="widget", identity=str(client.pk), limit=client.plan.requests_per_minute * 10)
    return client


@require_GET
def config(request: HttpRequest) -> JsonResponse:
    client = client_from_request(request)
    return JsonResponse({
        "client": {"name": client.name, "slug": client.slug},
        "default_language": client.default_language,
        "voice": client_may(client, "voice_widget"),
    })
