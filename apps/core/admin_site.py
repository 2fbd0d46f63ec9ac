"""The agency staff's admin: branded, behind allauth's login, and MFA required."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def user_has_mfa(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


# The index in the order staff work: the agency's own sections first (heading, then models in this order),
# every other app after them A to Z, and dj-stripe's ~45 synced tables last, folded under one heading
# (templates/admin/app_list.html); they stay reachable there and at /admin/djstripe/.
SECTIONS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("clients", _("Clients"), ("Client", "Invitation", "Plan", "Membership", "Domain", "StaffAccessGrant")),
    ("billing", _("Billing"), ("BillingAccount", "Invoice")),
    ("accounts", _("People"), ("User",)),
    ("account", _("Sign-in e-mail addresses"), ()),
    ("mfa", _("Two-factor authentication"), ()),
)
FOLDED: dict[str, Any] = {"djstripe": _("Stripe (synced data)")}


def _model_key(order: tuple[str, ...]) -> Any:
    return lambda model: (order.index(model["object_name"]) if model["object_name"] in order else len(order),
                          str(model["name"]))


def app_list_order(app_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Django's alphabetical app list, reordered and relabelled as SECTIONS and FOLDED say."""
    sections = {label: (position, heading, order) for position, (label, heading, order) in enumerate(SECTIONS)}
    for app in app_list:
        label = app["app_label"]
        if label in sections:
            _position, app["name"], order = sections[label]
            app["models"].sort(key=_model_key(order))
        elif label in FOLDED:
            app["name"] = FOLDED[label]
            app["folded"] = True

    def app_key(app: dict[str, Any]) -> tuple[int, int, str]:
        label = app["app_label"]
        if label in sections:
            return (0, sections[label][0], "")
        return (2 if label in FOLDED else 1, 0, str(app["name"]).lower())

    return sorted(app_list, key=app_key)


class VocaliaAdminSite(admin.AdminSite):
    site_header = _("Vocalia agency administration")
    site_title = _("Vocalia admin")
    index_title = _("Clients, plans and people")

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        return app_list_order(super().get_app_list(request, app_label))

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_MFA or user_has_mfa(request.user)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Staff sign in through allauth (throttled, MFA-aware); a staff member without MFA sets it up first."""
        user = request.user
        next_url = request.GET.get("next") or reverse("admin:index")
        if user.is_authenticated and user.is_active and user.is_staff:
            if settings.ADMIN_REQUIRE_MFA and not user_has_mfa(user):
                return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?next={next_url}")
            return HttpResponseRedirect(next_url)
        if user.is_authenticated:
            return HttpResponseRedirect("/")
        return HttpResponseRedirect(f"{reverse('account_login')}?next={next_url}")


class VocaliaAdminConfig(AdminConfig):
    default_site = "apps.core.admin_site.VocaliaAdminSite"
