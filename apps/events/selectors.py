"""Reads for the Developers page and the API: the catalogue, endpoints, deliveries and their attempts."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import translation

from apps.events import catalogue as event_catalogue
from apps.events.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint


def catalogue(*, language: str | None = None) -> list[dict[str, Any]]:
    """Every event type with its version, description (in `language`, else the active one) and JSON schema."""
    with translation.override(language or translation.get_language()):
        return [entry.as_dict() for entry in event_catalogue.TYPES.values()]


def endpoints_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
        pending_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
    ).order_by("created", "id")


def endpoints_auto_disabled() -> QuerySet[WebhookEndpoint]:
    """Endpoints the platform disabled (410 Gone, or failing for 5 days): the dashboard's banner."""
    return WebhookEndpoint.objects.filter(enabled=False).exclude(
        disabled_reason__in=["", WebhookEndpoint.DisabledReason.BY_USER])


def deliveries_list(*, endpoint: WebhookEndpoint | None = None, status: str = "", event_type: str = "",
                    limit: int = 50) -> QuerySet[WebhookDelivery]:
    found = WebhookDelivery.objects.select_related("event", "endpoint")
    if endpoint is not None:
        found = found.filter(endpoint=endpoint)
    if status in WebhookDelivery.Status.values:
        found = found.filter(status=status)
    if event_type:
        found = found.filter(event__type=event_type)
    return found.order_by("-created", "-id")[:limit]


def delivery_attempts(*, delivery: WebhookDelivery) -> QuerySet[DeliveryAttempt]:
    return delivery.attempt_log.order_by("-number", "-id")


def deliveries_query(*, endpoint: WebhookEndpoint | None = None, status: str = "",
                     event_type: str = "") -> QuerySet[WebhookDelivery]:
    """Unsliced, for the API's cursor pagination."""
    found = WebhookDelivery.objects.select_related("event", "endpoint")
    if endpoint is not None:
        found = found.filter(endpoint=endpoint)
    if status in WebhookDelivery.Status.values:
        found = found.filter(status=status)
    if event_type:
        found = found.filter(event__type=event_type)
    return found


def events_query(*, event_type: str = "") -> QuerySet[Event]:
    """Unsliced, for the API's cursor pagination."""
    found = Event.objects.all()
    return found.filter(type=event_type) if event_type else found


def event_get(*, public_id: str) -> Event:
    """The event of the current client's schema by its public id (`msg_…`); NotFound otherwise."""
    from apps.core.errors import NotFound

    well_formed = len(public_id) <= 32 and public_id.startswith("msg_") and public_id[4:].isascii() \
        and public_id[4:].isalnum()  # never NUL or another byte PostgreSQL refuses in a query
    found = Event.objects.filter(public_id=public_id).first() if well_formed else None
    if found is None:
        raise NotFound()
    return found


def events_list(*, event_type: str = "", limit: int = 50) -> QuerySet[Event]:
    found = Event.objects.all()
    if event_type:
        found = found.filter(type=event_type)
    return found.order_by("-created", "-id")[:limit]


def developers_overview(*, client: Any) -> dict[str, Any]:
    """Everything the Developers page shows: API keys, endpoints, the auto-disabled banner, the catalogue."""
    from apps.clients.entitlements import client_may
    from apps.clients.selectors import client_keys

    return {
        "keys": client_keys(client=client),
        "endpoints": list(endpoints_list()),
        "auto_disabled": list(endpoints_auto_disabled()),
        "catalogue": [{**entry, "schema_json": json.dumps(entry["schema"], indent=2)} for entry in catalogue()],
        "subscribable": event_catalogue.SUBSCRIBABLE,
        "webhooks_allowed": client_may(client, "webhooks"),
    }
