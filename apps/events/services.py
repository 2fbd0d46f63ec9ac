"""Writes: domain events (with their outbox rows), webhook endpoints, deliveries and their replay.

`event_record` is what the other apps call, inside the transaction of the change it describes. The endpoint
services check the role (owners and admins) and the plan (`webhooks`), write, audit, and queue on commit.
Sending a delivery is `sending.py`'s.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.services import audit_record
from apps.clients.entitlements import client_require
from apps.clients.models import Membership
from apps.clients.principals import ApiActor
from apps.core.errors import InvalidInput, NotFound, PermissionDenied
from apps.core.inputs import text_clean
from apps.events import catalogue, outbox, signing, transport
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint, subscribed

MAX_ENDPOINTS = 20
MAX_URL = 1000
MAX_RATE = 1000
URL_PROBLEMS = {
    "invalid": gettext_lazy("Enter a valid web address."),
    "scheme": gettext_lazy("Enter a web address starting with https://."),
    "https": gettext_lazy("Enter a web address starting with https://."),
    "credentials": gettext_lazy("A webhook address may not carry a user name or password."),
    "private": gettext_lazy("This address points to a private network; webhooks only go to public addresses."),
}


# --- events ------------------------------------------------------------------------------------------------------


def event_record(*, type: str, data: dict[str, Any], endpoint: WebhookEndpoint | None = None) -> Event:  # noqa: A002
    """Write a domain event in the current client's schema, and one pending delivery per enabled endpoint that
    wants it, in the caller's transaction (a savepoint of it, or its own when there is none): the change, the
    event and the outbox rows commit together or not at all. The deliveries are queued after the commit.

    `endpoint` sends it to that endpoint only (the test send)."""
    if connection.schema_name == "public":
        raise RuntimeError("event_record needs a client's schema (use tenant_context).")
    spec = catalogue.event_type(type)
    clean = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    with transaction.atomic():
        event = Event.objects.create(type=type, version=spec.version, data=clean)
        targets = [endpoint.pk] if endpoint is not None else [  # not the secrets: nothing to decrypt here
            pk for pk, types in WebhookEndpoint.objects.filter(enabled=True).values_list("pk", "event_types")
            if subscribed(types, type)]
        if targets:
            now = timezone.now()
            grace = now + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S)
            WebhookDelivery.objects.bulk_create(
                [WebhookDelivery(event=event, endpoint_id=target, next_attempt_at=now, queued_until=grace)
                 for target in targets])
            outbox.work_add(due=grace)
            outbox.kick()
    return event


# --- endpoints ---------------------------------------------------------------------------------------------------


def _require_manage(*, client: Any, actor: Any) -> None:
    if getattr(actor, "is_staff", False):
        return
    if isinstance(actor, ApiActor):  # a secret key manages its own client's endpoints, never another's
        if actor.manages(client):
            return
        raise PermissionDenied(_("Only owners and admins can do this."))
    if actor is None or not Membership.objects.filter(
            user=actor, client=client, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]).exists():
        raise PermissionDenied(_("Only owners and admins can do this."))


def _url_clean(url: str) -> str:
    raw = str(url or "")
    url = text_clean(raw, field="url").strip()
    if url and any(ord(char) < 33 or ord(char) == 127 for char in raw.strip()):
        raise InvalidInput(str(URL_PROBLEMS["invalid"]))
    if not url:
        raise InvalidInput(_("Enter the address that should receive the events."))
    if len(url) > MAX_URL:
        raise InvalidInput(_("The address is too long (1000 characters at most)."))
    problem = transport.url_problem(url)
    if problem:
        raise InvalidInput(str(URL_PROBLEMS[problem]))
    return url


def _types_clean(event_types: Any) -> list[str]:
    if event_types in (None, ""):
        return []
    if not isinstance(event_types, list | tuple) or not all(isinstance(name, str) for name in event_types):
        raise InvalidInput(_("Choose event types from the catalogue."))
    unknown = [name for name in event_types if name not in catalogue.SUBSCRIBABLE]
    if unknown:
        raise InvalidInput(_("Unknown event type: %(types)s.") % {"types": ", ".join(
            text_clean(name, field="event_types")[:64] for name in unknown[:5])})
    return sorted(set(event_types))


def _rate_clean(rate: Any) -> int:
    if rate in (None, ""):
        return WebhookEndpoint._meta.get_field("rate_per_second").default
    try:
        value = int(str(rate))
    except ValueError:
        raise InvalidInput(_("The rate must be a whole number between 1 and 1000.")) from None
    if not 1 <= value <= MAX_RATE:
        raise InvalidInput(_("The rate must be a whole number between 1 and 1000."))
    return value


def endpoint_get(*, endpoint_id: Any) -> WebhookEndpoint:
    """The endpoint of the current client's schema; NotFound for anything else (another schema's id, junk)."""
    try:
        pk = int(str(endpoint_id))
    except ValueError:
        raise NotFound() from None
    found = WebhookEndpoint.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if found is None:
        raise NotFound()
    return found


def webhook_endpoint_create(*, client: Any, actor: Any, url: str, event_types: Any = None, description: str = "",
                            rate_per_second: Any = None, ip: str | None = None) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its `whsec_` secret (returned once: it is stored encrypted and never shown again)."""
    _require_manage(client=client, actor=actor)
    client_require(client, "webhooks")
    url = _url_clean(url)
    types = _types_clean(event_types)
    rate = _rate_clean(rate_per_second)
    description = text_clean(str(description or ""), field="description").strip()[:200]
    secret = signing.secret_new()
    with transaction.atomic():
        if WebhookEndpoint.objects.count() >= MAX_ENDPOINTS:
            raise InvalidInput(_("You can have up to 20 endpoints."))
        endpoint = WebhookEndpoint.objects.create(url=url, event_types=types, description=description,
                                                  rate_per_second=rate, secret_encrypted=secret)
        audit_record(action="webhook.endpoint_created", actor=actor, target=f"webhook:{endpoint.pk}", ip=ip,
                     data={"url": url, "event_types": types})
    return endpoint, secret


def webhook_endpoint_update(*, client: Any, actor: Any, endpoint_id: Any, url: str, event_types: Any = None,
                            description: str = "", rate_per_second: Any = None, enabled: bool | None = None,
                            ip: str | None = None) -> WebhookEndpoint:
    _require_manage(client=client, actor=actor)
    endpoint_get(endpoint_id=endpoint_id)
    client_require(client, "webhooks")
    url = _url_clean(url)
    types = _types_clean(event_types)
    rate = _rate_clean(rate_per_second)
    description = text_clean(str(description or ""), field="description").strip()[:200]
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_get(endpoint_id=endpoint_id).pk)
        endpoint.url, endpoint.event_types, endpoint.description, endpoint.rate_per_second = (
            url, types, description, rate)
        if enabled is not None and enabled != endpoint.enabled:
            endpoint.enabled = enabled
            endpoint.disabled_reason = "" if enabled else WebhookEndpoint.DisabledReason.BY_USER
            endpoint.failing_since = None
        endpoint.save()
        audit_record(action="webhook.endpoint_updated", actor=actor, target=f"webhook:{endpoint.pk}", ip=ip,
                     data={"url": url, "event_types": types, "enabled": endpoint.enabled})
    return endpoint


_UNSET: Any = object()


def webhook_endpoint_change(*, client: Any, actor: Any, endpoint_id: Any, url: Any = _UNSET, event_types: Any = _UNSET,
                            description: Any = _UNSET, rate_per_second: Any = _UNSET, enabled: bool | None = None,
                            ip: str | None = None) -> WebhookEndpoint:
    """A partial update (the REST API's PATCH): the fields not given keep their stored values. Only `enabled`
    given: as the dashboard's switch (disabling needs no `webhooks` feature, so a downgraded client can stop it)."""
    _require_manage(client=client, actor=actor)
    stored = endpoint_get(endpoint_id=endpoint_id)
    if enabled is not None and all(value is _UNSET for value in (url, event_types, description, rate_per_second)):
        return webhook_endpoint_set_enabled(client=client, actor=actor, endpoint_id=stored.pk, enabled=enabled, ip=ip)
    return webhook_endpoint_update(
        client=client, actor=actor, endpoint_id=stored.pk, url=stored.url if url is _UNSET else url,
        event_types=stored.event_types if event_types is _UNSET else event_types,
        description=stored.description if description is _UNSET else description,
        rate_per_second=stored.rate_per_second if rate_per_second is _UNSET else rate_per_second,
        enabled=enabled, ip=ip)


def webhook_endpoint_set_enabled(*, client: Any, actor: Any, endpoint_id: Any, enabled: bool,
                                 ip: str | None = None) -> WebhookEndpoint:
    _require_manage(client=client, actor=actor)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_get(endpoint_id=endpoint_id).pk)
        if enabled:
            client_require(client, "webhooks")
        endpoint.enabled = enabled
        endpoint.disabled_reason = "" if enabled else WebhookEndpoint.DisabledReason.BY_USER
        endpoint.failing_since = None
        endpoint.save(update_fields=["enabled", "disabled_reason", "failing_since", "updated"])
        audit_record(action="webhook.endpoint_enabled" if enabled else "webhook.endpoint_disabled", actor=actor,
                     target=f"webhook:{endpoint.pk}", ip=ip, data={})
    return endpoint


def webhook_endpoint_rotate(*, client: Any, actor: Any, endpoint_id: Any, ip: str | None = None,
                            now: datetime | None = None) -> tuple[WebhookEndpoint, str]:
    """A new secret; the previous one keeps signing (next to the new) for KEY_ROTATION_OVERLAP (24 h)."""
    _require_manage(client=client, actor=actor)
    now = now or timezone.now()
    secret = signing.secret_new()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_get(endpoint_id=endpoint_id).pk)
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_until = now + settings.KEY_ROTATION_OVERLAP
        endpoint.secret_encrypted = secret
        endpoint.save(update_fields=["secret_encrypted", "previous_secret_encrypted", "previous_secret_until",
                                     "updated"])
        audit_record(action="webhook.secret_rotated", actor=actor, target=f"webhook:{endpoint.pk}", ip=ip, data={})
    return endpoint, secret


def webhook_endpoint_delete(*, client: Any, actor: Any, endpoint_id: Any, ip: str | None = None) -> None:
    _require_manage(client=client, actor=actor)
    with transaction.atomic():
        endpoint = endpoint_get(endpoint_id=endpoint_id)
        audit_record(action="webhook.endpoint_deleted", actor=actor, target=f"webhook:{endpoint.pk}", ip=ip,
                     data={"url": endpoint.url})
        endpoint.delete()


def webhook_endpoint_test(*, client: Any, actor: Any, endpoint_id: Any, ip: str | None = None) -> Event:
    """Send a `webhook.test` event to this endpoint only, through the normal outbox (a disabled endpoint's
    test fails at once, as any delivery to it would: enable it first)."""
    _require_manage(client=client, actor=actor)
    endpoint = endpoint_get(endpoint_id=endpoint_id)
    client_require(client, "webhooks")
    with transaction.atomic():
        event = event_record(type="webhook.test", endpoint=endpoint, data={
            "message": "This is a test event from Vocalia.", "endpoint_id": endpoint.pk})
        audit_record(action="webhook.test_sent", actor=actor, target=f"webhook:{endpoint.pk}", ip=ip,
                     data={"event": event.public_id})
    return event


# --- replay ------------------------------------------------------------------------------------------------------


def delivery_get(*, delivery_id: Any) -> WebhookDelivery:
    try:
        pk = int(str(delivery_id))
    except ValueError:
        raise NotFound() from None
    found = (WebhookDelivery.objects.select_related("event", "endpoint").filter(pk=pk).first()
             if 0 < pk < 2**63 else None)
    if found is None:
        raise NotFound()
    return found


def _requeue(queryset: Any) -> list[int]:
    now = timezone.now()
    ids = list(queryset.values_list("id", flat=True))
    if ids:
        grace = now + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S)
        WebhookDelivery.objects.filter(id__in=ids).update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now,
                                                          retry_step=0, finished_at=None, lease_until=None,
                                                          queued_until=grace)
        outbox.work_add(due=grace)
        outbox.kick()
    return ids


def delivery_replay(*, client: Any, actor: Any, delivery_id: Any, ip: str | None = None) -> WebhookDelivery:
    """Send one delivery again (same `webhook-id`), whatever became of it; a pending one is left as it is."""
    _require_manage(client=client, actor=actor)
    delivery = delivery_get(delivery_id=delivery_id)
    client_require(client, "webhooks")
    with transaction.atomic():
        if delivery.status != WebhookDelivery.Status.PENDING:
            _requeue(WebhookDelivery.objects.filter(pk=delivery.pk))
        audit_record(action="webhook.delivery_replayed", actor=actor, target=f"delivery:{delivery.pk}", ip=ip,
                     data={"event": delivery.event.public_id})
    delivery.refresh_from_db()
    return delivery


MAX_RECOVER = 10_000


def deliveries_recover(*, client: Any, actor: Any, since: datetime, endpoint_id: Any = None,
                       ip: str | None = None) -> int:
    """Send again every failed delivery created since `since` (of one endpoint, or all): how many."""
    _require_manage(client=client, actor=actor)
    endpoint = endpoint_get(endpoint_id=endpoint_id) if endpoint_id not in (None, "") else None
    client_require(client, "webhooks")
    if timezone.is_naive(since):
        raise InvalidInput(_("The time must carry its time zone."))
    if since < timezone.now() - timedelta(days=90):
        raise InvalidInput(_("Failed deliveries can be recovered for the last 90 days."))
    with transaction.atomic():
        failed = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED, created__gte=since)
        if endpoint is not None:
            failed = failed.filter(endpoint=endpoint)
        ids = _requeue(failed.order_by("created", "id")[:MAX_RECOVER])
        audit_record(action="webhook.deliveries_recovered", actor=actor, target="webhooks", ip=ip,
                     data={"since": since.isoformat(), "count": len(ids)})
    return len(ids)
