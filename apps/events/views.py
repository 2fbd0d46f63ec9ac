"""The dashboard's Developers page: API keys, webhook endpoints, their delivery log, the event catalogue.
Thin: parse, call one service or selector, render. Owners and admins only (as the API keys were)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import InvalidInput, PermissionDenied, VocaliaError
from apps.core.inputs import text_clean
from apps.events import selectors, services


def _require_manage(request: HttpRequest) -> None:
    membership = getattr(request, "membership", None)
    if not (getattr(request, "staff_access", False) or (membership and membership.can_manage)):
        raise PermissionDenied(_("Only owners and admins can do this."))


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def developers_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    """The page, for this view and the API-key actions (apps/dashboard/views.py) that show a key once."""
    _require_manage(request)
    context = selectors.developers_overview(client=request.client)  # type: ignore[attr-defined]
    context.update(extra)
    return render(request, "events/developers.html", context)


def developers(request: HttpRequest) -> HttpResponse:
    return developers_page(request)


def _endpoint_values(request: HttpRequest) -> dict[str, Any]:
    return {"url": request.POST.get("url", ""), "description": request.POST.get("description", ""),
            "event_types": [] if request.POST.get("all_types") else request.POST.getlist("event_types"),
            "rate_per_second": request.POST.get("rate_per_second", "")}



def _attempt(request: HttpRequest, action: Any, success: str, *, reraise: tuple[int, ...] = (404,)) -> None:
    """Run one service call for the page: its refusal becomes a message on the page (except `reraise`, which the
    error pages answer), its success the `success` message."""
    try:
        action()
    except VocaliaError as error:
        if error.status in reraise:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, success)

@require_POST
def endpoint_create(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    try:
        endpoint, secret = services.webhook_endpoint_create(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                                            ip=_ip(request), **_endpoint_values(request))
    except VocaliaError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
        return redirect("developers")
    messages.success(request, _("Endpoint added."))
    return _endpoint_page(request, endpoint.pk, revealed_secret=secret)


def _endpoint_page(request: HttpRequest, endpoint_id: Any, **extra: Any) -> HttpResponse:
    _require_manage(request)
    endpoint = services.endpoint_get(endpoint_id=endpoint_id)
    status = text_clean(request.GET.get("status", ""), field="status")[:16]
    return render(request, "events/endpoint.html", {
        "endpoint": endpoint, "deliveries": selectors.deliveries_list(endpoint=endpoint, status=status, limit=100),
        "status": status, "subscribable": selectors.event_catalogue.SUBSCRIBABLE, **extra})


def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    return _endpoint_page(request, endpoint_id)


@require_POST
def endpoint_update(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _require_manage(request)
    values = _endpoint_values(request)
    _attempt(request, lambda: services.webhook_endpoint_update(
        client=request.client, actor=request.user, endpoint_id=endpoint_id, ip=_ip(request), **values),  # type: ignore[attr-defined]
        _("Endpoint saved."), reraise=(403, 404))
    return redirect("developers-endpoint", endpoint_id=endpoint_id)


@require_POST
def endpoint_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _require_manage(request)
    _endpoint, secret = services.webhook_endpoint_rotate(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                                         endpoint_id=endpoint_id, ip=_ip(request))
    messages.success(request, _("New signing secret created. The previous one keeps signing for 24 hours."))
    return _endpoint_page(request, endpoint_id, revealed_secret=secret)


@require_POST
def endpoint_enabled(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _require_manage(request)
    enabled = request.POST.get("enabled") == "1"
    _attempt(request, lambda: services.webhook_endpoint_set_enabled(
        client=request.client, actor=request.user, endpoint_id=endpoint_id, enabled=enabled, ip=_ip(request)),  # type: ignore[attr-defined]
        _("Endpoint enabled.") if enabled else _("Endpoint disabled."))
    return redirect("developers-endpoint", endpoint_id=endpoint_id)


@require_POST
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _require_manage(request)
    _attempt(request, lambda: services.webhook_endpoint_test(
        client=request.client, actor=request.user, endpoint_id=endpoint_id, ip=_ip(request)),  # type: ignore[attr-defined]
        _("Test event queued. Its delivery appears below in a moment."))
    return redirect("developers-endpoint", endpoint_id=endpoint_id)


@require_POST
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _require_manage(request)
    services.webhook_endpoint_delete(client=request.client, actor=request.user, endpoint_id=endpoint_id,  # type: ignore[attr-defined]
                                     ip=_ip(request))
    messages.success(request, _("Endpoint deleted."))
    return redirect("developers")


def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _require_manage(request)
    delivery = services.delivery_get(delivery_id=delivery_id)
    return render(request, "events/delivery.html", {"delivery": delivery,
                                                    "attempts": selectors.delivery_attempts(delivery=delivery)})


@require_POST
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _require_manage(request)
    _attempt(request, lambda: services.delivery_replay(
        client=request.client, actor=request.user, delivery_id=delivery_id, ip=_ip(request)),  # type: ignore[attr-defined]
        _("Delivery queued again, with the same webhook-id."))
    return redirect("developers-delivery", delivery_id=delivery_id)


def _since(request: HttpRequest) -> datetime:
    """The "since" field (a datetime-local, in the client's time zone)."""
    text = text_clean(request.POST.get("since", ""), field="since").strip()[:32]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Enter a date and time, for example 2026-05-01 09:00.")) from None
    if not 2000 <= moment.year <= 2100:
        raise InvalidInput(_("Enter a date and time, for example 2026-05-01 09:00."))
    if moment.tzinfo is None:
        zone = ZoneInfo(getattr(request.client, "timezone", "") or "UTC")  # type: ignore[attr-defined]
        moment = moment.replace(tzinfo=zone)
    return moment


@require_POST
def deliveries_recover(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    endpoint_id = request.POST.get("endpoint", "")
    try:
        count = services.deliveries_recover(client=request.client, actor=request.user, since=_since(request),  # type: ignore[attr-defined]
                                            endpoint_id=endpoint_id or None, ip=_ip(request))
    except VocaliaError as error:
        if error.status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(count)s failed deliveries queued again.") % {"count": count})
    if endpoint_id:
        return redirect("developers-endpoint", endpoint_id=services.endpoint_get(endpoint_id=endpoint_id).pk)
    return redirect("developers")
