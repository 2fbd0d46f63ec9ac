"""The agency staff's admin: branded, behind allauth's login, and MFA required."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def user_has_mfa(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class VocaliaAdminSite(admin.AdminSite):
    site_header = _("Vocalia agency administration")
    site_title = _("Vocalia admin")
    index_title = _("Clients, plans and people")

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
