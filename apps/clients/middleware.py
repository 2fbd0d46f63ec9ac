"""How an HTTP request finds its client (by host), and who may enter a client's dashboard.

Replaces django-tenants' TenantMainMiddleware: the host lookup is cached, the
platform hosts route to the public URLconf without a database query, and an
unknown, suspended or unfinished client gets a clear page instead of a 500.
Widget, API and Twilio requests arrive on the platform host and find their client
by key or number in their own entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.request import split_domain_port
from django.shortcuts import render
from django.urls import reverse, set_urlconf
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.clients.models import Client
from apps.clients.selectors import client_by_host, membership_for
from apps.core.errors import json_error, wants_json

STAFF_SESSION_KEY = "vocalia_staff_client"
OPEN_PREFIXES = ("/accounts/", "/invite/", "/staff-access/", "/static/", "/i18n/", "/favicon.ico")


class ClientResolutionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.platform_hosts = {host.lower() for host in settings.PLATFORM_HOSTS}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        request.client = None  # type: ignore[attr-defined]
        host, _port = split_domain_port(request.get_host())
        if host in self.platform_hosts:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF  # type: ignore[attr-defined]
            set_urlconf(request.urlconf)  # type: ignore[attr-defined]
            return self.get_response(request)
        client = client_by_host(host)
        if client is None:
            return _page(request, 404, _("No Vocalia account answers at this address."), "errors/error.html")
        if client.status == Client.Status.SUSPENDED:
            return _page(request, 403, _("This account is suspended. Please contact your agency."),
                         "errors/error.html", client)
        if client.status != Client.Status.ACTIVE:
            return _page(request, 503, _("This account is being set up. Try again in a minute."),
                         "errors/error.html", client)
        request.client = client  # type: ignore[attr-defined]
        request.tenant = client  # type: ignore[attr-defined]
        connection.set_tenant(client)
        request.urlconf = settings.ROOT_URLCONF  # type: ignore[attr-defined]
        set_urlconf(request.urlconf)  # type: ignore[attr-defined]
        _activate_zone(client)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _activate_zone(client: Client) -> None:
    """The dashboard shows times in the client's zone (its appointments, conversations, tickets)."""
    try:
        timezone.activate(ZoneInfo(client.timezone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        timezone.deactivate()


def _page(request: HttpRequest, status: int, message: str, template: str, client: Client | None = None
          ) -> HttpResponse:
    if wants_json(request):
        return json_error(status, {403: "client_suspended", 404: "unknown_host", 503: "client_unavailable"}[status],
                          message)
    response = render(request, template, {"status": status, "message": message, "client": client}, status=status)
    if status == 503:
        response["Retry-After"] = "30"
    return response


class ClientAccessMiddleware:
    """On a client's host: members only. Anyone else signed in gets 404, as if nothing were there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        client = getattr(request, "client", None)
        request.membership = None  # type: ignore[attr-defined]
        request.staff_access = False  # type: ignore[attr-defined]
        if client is None:
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            membership = membership_for(user=user, client=client)
            if membership is not None:
                request.membership = membership  # type: ignore[attr-defined]
            elif user.is_staff and request.session.get(STAFF_SESSION_KEY) == client.pk:
                request.staff_access = True  # type: ignore[attr-defined]
            elif not request.path.startswith(OPEN_PREFIXES):
                return render(request, "errors/error.html",
                              {"status": 404, "message": _("Page not found.")}, status=404)
        elif not request.path.startswith(OPEN_PREFIXES):
            return HttpResponseRedirect(f"{reverse('account_login')}?next={request.get_full_path()}")
        return self.get_response(request)


class ClientLanguageMiddleware:
    """On a client's host the dashboard speaks, in order: the language chosen in the switcher (cookie),
    the person's preferred language, the client's default language. The browser's Accept-Language only
    decides on the platform host."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        client = getattr(request, "client", None)
        if client is not None and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            user = request.user
            preferred = getattr(user, "preferred_language", "") if user.is_authenticated else ""
            language = preferred if preferred in self.languages else client.default_language
            if language in self.languages:
                translation.activate(language)
                request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        return self.get_response(request)
