"""Dashboard pages on a client's host. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.audit.selectors import audit_recent
from apps.clients import services
from apps.clients.middleware import STAFF_SESSION_KEY
from apps.clients.models import ApiKey, Invitation, Membership
from apps.clients.plans import FEATURES
from apps.clients.selectors import client_keys, client_members
from apps.core.errors import (
    PermissionDenied,
    VocaliaError,
    error_response,
    json_error,
    last_resort_response,
    page_not_found,
    wants_json,
)
from apps.dashboard.forms import AcceptInvitationForm, ClientSettingsForm, InviteForm, RoleForm
from apps.dashboard.selectors import home_usage
from apps.events.selectors import endpoints_auto_disabled
from apps.events.views import developers_page


def _actor(request: HttpRequest) -> Any:
    return request.user


def _require_manage(request: HttpRequest) -> None:
    membership = getattr(request, "membership", None)
    if not (getattr(request, "staff_access", False) or (membership and membership.can_manage)):
        raise PermissionDenied(_("Only owners and admins can do this."))


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def home(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    context = {
        "usage": home_usage(client=client),
        "features": [(code, label, code in client.plan.features) for code, label in FEATURES.items()],
        "missing_features": [label for code, label in FEATURES.items() if code not in client.plan.features],
        "keys": client_keys(client=client).filter(revoked_at__isnull=True)[:4],
        "activity": audit_recent(limit=8),
        "members_count": client_members(client=client).count(),
        "webhooks_disabled": list(endpoints_auto_disabled()),
    }
    return render(request, "dashboard/home.html", context)


def team(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    context = {
        "members": client_members(client=client),
        "invitations": [i for i in Invitation.objects.filter(client=client, accepted_at__isnull=True,
                                                             revoked_at__isnull=True) if i.is_pending],
        "invite_form": InviteForm(),
        "roles": Membership.Role.choices,
    }
    return render(request, "dashboard/team.html", context)


@require_POST
def team_invite(request: HttpRequest) -> HttpResponse:
    _require_manage(request)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please enter a valid e-mail address and role."))
        return redirect("team")
    try:
        services.invitation_create(client=request.client, email=form.cleaned_data["email"],  # type: ignore[attr-defined]
                                   role=form.cleaned_data["role"], actor=_actor(request))
    except VocaliaError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("team")


def _membership(request: HttpRequest, membership_id: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user", "client"), pk=membership_id,
                             client=request.client)  # type: ignore[attr-defined]


@require_POST
def team_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_role(membership=membership, role=form.cleaned_data["role"], actor=_actor(request))
            messages.success(request, _("Role updated."))
        except VocaliaError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Unknown role."))
    return redirect("team")


@require_POST
def team_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    leaving_self = membership.user_id == request.user.pk
    try:
        services.membership_remove(membership=membership, actor=_actor(request))
    except VocaliaError as error:
        messages.error(request, error.message)
        return redirect("team")
    messages.success(request, _("Member removed."))
    return redirect("account_logout" if leaving_self else "team")


@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, client=request.client)  # type: ignore[attr-defined]
    try:
        services.invitation_revoke(invitation=invitation, actor=_actor(request))
        messages.success(request, _("Invitation withdrawn."))
    except VocaliaError as error:
        messages.error(request, error.message)
    return redirect("team")


def keys(request: HttpRequest) -> HttpResponse:
    """API keys moved to the Developers page."""
    _require_manage(request)
    return redirect("developers")


def _key(request: HttpRequest, key_id: int) -> ApiKey:
    return get_object_or_404(ApiKey.objects.select_related("client"), pk=key_id,
                             client=request.client)  # type: ignore[attr-defined]


@require_POST
def key_reveal(request: HttpRequest, key_id: int) -> HttpResponse:
    _require_manage(request)
    try:
        value = services.secret_key_reveal(key=_key(request, key_id), actor=_actor(request))
    except VocaliaError as error:
        messages.error(request, error.message)
        return redirect("developers")
    return developers_page(request, revealed=value)


@require_POST
def key_rotate(request: HttpRequest, kind: str) -> HttpResponse:
    _require_manage(request)
    client = request.client  # type: ignore[attr-defined]
    if kind == ApiKey.Kind.SECRET:
        _key_row, value = services.secret_key_rotate(client=client, actor=_actor(request))
        messages.success(request, _("New secret key created. The previous one keeps working for a while."))
        return developers_page(request, revealed=value)
    if kind == ApiKey.Kind.PUBLISHABLE:
        services.publishable_key_rotate(client=client, actor=_actor(request))
        messages.success(request, _("New widget key created. Update the snippet on your website."))
        return redirect("developers")
    raise Http404


@require_POST
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    _require_manage(request)
    services.key_revoke(key=_key(request, key_id), actor=_actor(request))
    messages.success(request, _("Key revoked."))
    return redirect("developers")


def client_settings(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    form = ClientSettingsForm(request.POST or None, instance=client)
    if request.method == "POST":
        _require_manage(request)  # before the form's errors; client_settings_update checks again
    if request.method == "POST" and form.is_valid():
        services.client_settings_update(client=client, actor=_actor(request), values=form.cleaned_data,
                                        ip=_client_ip(request))
        messages.success(request, _("Settings saved."))
        return redirect("settings")
    return render(request, "dashboard/settings.html", {"form": form})


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    invitation = Invitation.objects.filter(token=token, client=client).first()
    if invitation is None or not invitation.is_pending:
        return render(request, "errors/error.html",
                      {"status": 404, "message": _("This invitation has expired or was already used.")}, status=404)
    user = request.user if request.user.is_authenticated else None
    form = AcceptInvitationForm(request.POST or None) if user is None else None
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            user = services.invitation_accept(invitation=invitation, user=user,
                                              password=form.cleaned_data["password1"] if form else "")
        except VocaliaError as error:
            messages.error(request, error.message)
            return redirect(f"/accounts/login/?next={request.path}")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to %(client)s!") % {"client": client.name})
        return redirect("home")
    return render(request, "dashboard/invitation.html", {"invitation": invitation, "form": form})


def staff_access(request: HttpRequest, token: str) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    staff = services.staff_access_redeem(client=client, token=token, ip=_client_ip(request))
    login(request, staff, backend="django.contrib.auth.backends.ModelBackend")
    request.session[STAFF_SESSION_KEY] = client.pk
    messages.info(request, _("You are viewing this dashboard as agency staff. This visit is recorded."))
    return redirect("home")


def platform_home(request: HttpRequest) -> HttpResponse:
    return render(request, "platform/home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, page_not_found())


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page; if even that fails (a request Django cannot describe), a plain one that cannot."""
    try:
        if wants_json(request):
            return json_error(500, "server_error", _("Something went wrong on our side. It has been logged."))
        response = render(request, "errors/error.html", {
            "status": 500, "message": _("Something went wrong on our side. It has been logged.")}, status=500)
        response.content  # noqa: B018 - encoded here, so a failure to encode is caught here
        return response
    except Exception:  # noqa: BLE001 - the handler of last resort must answer
        return last_resort_response(request)
