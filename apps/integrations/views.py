"""The dashboard's Integrations page: what serves this client for each kind, its own accounts, a test e-mail.
Thin: parse, call one service or selector, render. Only owners (and agency staff) change anything."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.clients.models import Membership
from apps.core.errors import NotFound, VocaliaError
from apps.integrations import registry, services
from apps.integrations.selectors import builtin_kinds, deliveries_recent, integrations_overview


def _is_owner(request: HttpRequest) -> bool:
    membership = getattr(request, "membership", None)
    return bool(getattr(request, "staff_access", False)
                or (membership is not None and membership.role == Membership.Role.OWNER))


def integrations(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    return render(request, "dashboard/integrations.html", {
        "panels": integrations_overview(client=client),
        "builtin_kinds": builtin_kinds(client=client),
        "tests": deliveries_recent(limit=5, purpose="test"),
        "is_owner": _is_owner(request),
    })


def _provider_fields(kind: str, provider: str) -> tuple:
    if kind not in registry.PROVIDERS or provider not in registry.PROVIDERS[kind]:
        raise NotFound()
    return registry.provider_class(kind, provider).fields


@require_POST
def account_save(request: HttpRequest, kind: str, provider: str) -> HttpResponse:
    try:
        values = {field.name: request.POST.get(field.name, "") for field in _provider_fields(kind, provider)}
        services.account_connect(client=request.client, kind=kind, provider=provider,  # type: ignore[attr-defined]
                                 values=values, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    except VocaliaError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("Saved. Your own account is used from now on."))
    return redirect("integrations")


@require_POST
def account_remove(request: HttpRequest, kind: str, provider: str) -> HttpResponse:
    services.account_disconnect(client=request.client, kind=kind, provider=provider,  # type: ignore[attr-defined]
                                actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    messages.success(request, _("Removed. The agency's default applies again."))
    return redirect("integrations")


@require_POST
def email_test(request: HttpRequest) -> HttpResponse:
    try:
        services.email_test_queue(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                  to=request.POST.get("to", "") or request.user.email,
                                  ip=request.META.get("REMOTE_ADDR"))
    except VocaliaError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, _("Test e-mail queued. Its status appears below."))
    return redirect("integrations")
