"""Writes: domain events (with their outbox rows), webhook endpoints, deliveries and their replay.

`event_record` is what the other apps call, inside the transaction of the change it describes. The endpoint
services check the role (owners and admins) and the plan (`webhooks`), write, audit, and queue on commit.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.services import audit_record
from apps.clients.entitlements import client_require
from apps.clients.models import Membership
from apps.clients.principals import ApiActor
from apps.core.errors import InvalidInput, NotFound, PermissionDenied
from apps.core.inputs import text_clean
from apps.events import catalogue, outbox, routes, signing, transport
from apps.events.models import DeliveryAttempt, Event, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

MAX_ENDPOINTS = 20
MAX_URL = 1000
MAX_RATE = 1000
MAX_RETRY_AFTER_S = 24 * 3600
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
    Which endpoints want it comes from the cached routes (apps/events/routes.py): no query when none does.
    No savepoint of its own inside the caller's transaction: a failure here fails the caller's.

    `endpoint` sends it to that endpoint only (the test send)."""
    if connection.schema_name == "public":
        raise RuntimeError("event_record needs a client's schema (use tenant_context).")
    spec = catalogue.event_type(type)
    clean = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    with transaction.atomic(savepoint=False):
        event = Event.objects.create(type=type, version=spec.version, data=clean)
        targets = [endpoint.pk] if endpoint is not None else routes.routes_for(type)
        if targets:
            now = timezone.now()
            grace = now + timedelta(seconds=settings.WEBHOOK_KICK_GRACE_S)
            deliveries = WebhookDelivery.objects.bulk_create(
                [WebhookDelivery(event=event, endpoint_id=target, next_attempt_at=now, queued_until=grace)
                 for target in targets])
            outbox.work_add(due=grace)
            outbox.kick([delivery.pk for delivery in deliveries])
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
        outbox.kick(ids)
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


# --- sending -----------------------------------------------------------------------------------------------------


def _body(event: Event) -> str:
    """The exact bytes sent (and signed): Standard Webhooks' {type, timestamp, data}, with our id and version."""
    return json.dumps({"id": event.public_id, "type": event.type, "version": event.version,
                       "timestamp": event.created.isoformat().replace("+00:00", "Z"), "data": event.data},
                      ensure_ascii=False, separators=(",", ":"))


def _retry_after(answer: transport.Answer, now: datetime) -> float | None:
    value = answer.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_S)
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, min((moment - now).total_seconds(), MAX_RETRY_AFTER_S))


def _rate_allows(endpoint: WebhookEndpoint) -> bool:
    """At most `rate_per_second` sends a second to one endpoint (a Redis counter per second; fails open)."""
    from apps.core.redis import get_redis

    key = f"webhook-rate:{connection.schema_name}:{endpoint.pk}:{int(timezone.now().timestamp())}"
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 2)
        count = pipe.execute()[0]
    except Exception:  # noqa: BLE001 - without Redis there is no broker either; do not add a failure
        return True
    return int(count) <= endpoint.rate_per_second


def _defer(delivery_id: int, seconds: float) -> None:
    due = timezone.now() + timedelta(seconds=seconds)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
            next_attempt_at=due, queued_until=None)
        outbox.work_add(due=due)


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """One try at a delivery, for the Celery task. Safe to run twice, in two workers at once: the try is
    claimed with a lease (an UPDATE that only one of them wins), and a delivery not due, leased, or finished is
    left alone. None when there was nothing to do."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_LEASE_S)
    candidate = (WebhookDelivery.objects.select_related("endpoint", "event").filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING).first())
    if candidate is None or (candidate.next_attempt_at and candidate.next_attempt_at > now):
        return None
    endpoint = candidate.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).update(
            status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled", finished_at=now, lease_until=None)
        return None
    if not _rate_allows(endpoint):
        _defer(delivery_id, 1)
        return None
    claimed = WebhookDelivery.objects.filter(outbox.due_filter(now), pk=delivery_id).update(
        lease_until=lease, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = candidate  # the event never changes; the endpoint as read a moment ago
    delivery.attempts += 1
    delivery.lease_until = lease
    event = delivery.event
    body = _body(event)
    timestamp = int(now.timestamp())
    headers = signing.headers_for(secrets_in_force=endpoint.secrets_in_force(now), msg_id=event.public_id,
                                  timestamp=timestamp, body=body)
    answer = transport.post(endpoint.url, body=body.encode(), headers=headers)
    return _attempt_finish(delivery=delivery, lease=lease, answer=answer, headers=headers, body=body)


def _attempt_finish(*, delivery: WebhookDelivery, lease: datetime, answer: transport.Answer,
                    headers: dict[str, str], body: str) -> WebhookDelivery:
    now = timezone.now()
    endpoint = delivery.endpoint
    status = answer.status
    ok = status is not None and 200 <= status < 300
    gone = status == 410
    schedule = settings.WEBHOOK_RETRY_SCHEDULE_S
    next_at: datetime | None = None
    if not ok and not gone and delivery.retry_step < len(schedule):
        delay = float(schedule[delivery.retry_step])
        if status is not None and (status == 429 or status >= 500):
            wait = _retry_after(answer, now)
            if wait is not None:
                delay = max(delay, wait)
        next_at = now + timedelta(seconds=delay)
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started=now - timedelta(milliseconds=answer.latency_ms),
            request_url=endpoint.url[:1000], request_headers=headers, request_body=body, response_status=status,
            response_excerpt=text_clean(answer.excerpt)[:transport.EXCERPT_BYTES], latency_ms=answer.latency_ms,
            error=answer.error[:300], next_retry_at=next_at)
        fields: dict[str, Any] = {"last_status_code": status, "last_error": answer.error[:300], "lease_until": None,
                                  "queued_until": None}  # a retry is the sweeper's to queue when due
        if ok:
            fields.update(status=WebhookDelivery.Status.SUCCEEDED, finished_at=now, next_attempt_at=None)
        elif next_at is not None:
            fields.update(next_attempt_at=next_at, retry_step=delivery.retry_step + 1)
        else:
            fields.update(status=WebhookDelivery.Status.FAILED, finished_at=now, next_attempt_at=None)
        # Fenced by the lease: a try that outlived its lease (another worker took over) records its attempt
        # but does not overwrite the newer state.
        updated = WebhookDelivery.objects.filter(pk=delivery.pk, lease_until=lease).update(**fields)
        if updated and next_at is not None:
            outbox.work_add(due=next_at)
        _endpoint_health(endpoint=endpoint, ok=ok, gone=gone, now=now)
    if updated:
        for name, value in fields.items():
            setattr(delivery, name, value)
    else:
        delivery.refresh_from_db()
    if gone or not ok:
        delivery.refresh_from_db()  # an endpoint disabled just now failed this delivery too
    return delivery


def _endpoint_health(*, endpoint: WebhookEndpoint, ok: bool, gone: bool, now: datetime) -> None:
    if ok:
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    if gone:
        _endpoint_auto_disable(endpoint_id=endpoint.pk, reason=WebhookEndpoint.DisabledReason.GONE)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    if endpoint.failing_since is not None and now - endpoint.failing_since >= timedelta(
            days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        _endpoint_auto_disable(endpoint_id=endpoint.pk, reason=WebhookEndpoint.DisabledReason.FAILING)


def _endpoint_auto_disable(*, endpoint_id: int, reason: str) -> None:
    """Disable an endpoint the platform gave up on, fail its pending deliveries, and tell the owners by e-mail
    (through the messaging seam) — the Developers and home pages show a banner too."""
    if not WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
            enabled=False, disabled_reason=reason):
        return
    routes.routes_forget()  # a queryset update sends no signal
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING).exclude(
        lease_until__gt=timezone.now()).update(status=WebhookDelivery.Status.FAILED, last_error="endpoint disabled",
                                               finished_at=timezone.now(), next_attempt_at=None)
    audit_record(action="webhook.endpoint_auto_disabled", target=f"webhook:{endpoint_id}",
                 data={"reason": reason, "url": endpoint.url})
    _owners_tell(endpoint=endpoint, reason=reason)


def _owners_tell(*, endpoint: WebhookEndpoint, reason: str) -> None:
    from django.utils import translation

    from apps.messaging.services import message_send

    client = getattr(connection, "tenant", None)
    if client is None or not hasattr(client, "memberships"):
        return
    owners = Membership.objects.filter(client=client, role=Membership.Role.OWNER).select_related("user")
    with translation.override(getattr(client, "default_language", None) or "en"):
        why = (_("it answered 410 Gone") if reason == WebhookEndpoint.DisabledReason.GONE
               else _("its deliveries failed for 5 days"))
        subject = _("A webhook endpoint was disabled")
        body = _("We disabled your webhook endpoint %(url)s because %(why)s. Fix the receiver, enable it again "
                 "on the Developers page, and recover the failed deliveries from there.") % {
            "url": endpoint.url, "why": why}
        for membership in owners:
            try:
                message_send(channel="email", to=membership.user.email, subject=subject, body=body)
            except InvalidInput:
                logger.warning("could not tell %s about webhook %s", membership.user.email, endpoint.pk)
