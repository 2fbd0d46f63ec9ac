"""Agency staff's view of clients: provision, suspend, rotate keys, open a dashboard (audited)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.clients import selectors, services
from apps.clients.forms import ClientAdminForm, DomainInlineForm, InvitationAdminForm, MembershipInlineForm
from apps.clients.models import ApiKey, Client, Domain, Invitation, Membership, Plan, StaffAccessGrant
from apps.clients.tasks import client_provision_task
from apps.core.errors import VocaliaError

# Set when staff create a client with an owner e-mail: the client's page then announces the owner's link once.
ANNOUNCE_OWNER_LINK = "admin.announce-owner-link"


def copy_field(url: str, *, label: str, note: str = "") -> SafeString:
    """A read-only, select-on-focus field holding `url`, with a Copy button (static/agency-admin/admin.js)."""
    return format_html(
        '<span class="copy-link"><input type="text" readonly value="{}" aria-label="{}" spellcheck="false">'
        '<button type="button" class="button" data-copied="{}">{}</button>{}</span>',
        url, label, gettext("Copied"), gettext("Copy"),
        format_html('<span class="copy-link-note">{}</span>', note) if note else "",
    )


def invitation_link_field(invitation: Invitation) -> SafeString:
    expires = formats.date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT")
    note = gettext("For %(email)s (valid until %(date)s). Whoever has this link can join as %(role)s.") % {
        "email": invitation.email, "date": expires, "role": invitation.get_role_display()}
    return copy_field(services.invitation_url(invitation), label=gettext("Invitation link"), note=note)


class DomainInline(admin.TabularInline):
    model = Domain
    form = DomainInlineForm
    extra = 0
    fields = ("domain", "is_primary", "created")
    readonly_fields = ("created",)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    extra = 0
    fields = ("user", "role", "created")
    readonly_fields = ("created",)
    autocomplete_fields = ("user",)


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("kind", "display_key", "label", "created", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields

    @admin.display(description=_("key"))
    def display_key(self, obj: ApiKey) -> str:
        return format_html('<bdi dir="ltr">{}</bdi>', obj.display)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientAdminForm
    list_display = ("name", "slug", "plan", "status_badge", "provisioning_step", "default_language", "created")
    list_filter = ("status", "plan", "default_language")
    search_fields = ("name", "slug", "owner_email", "domains__domain")
    prepopulated_fields = {"slug": ("name",)}  # Django's URLify folds accents: "Riad Fès" → "riad-fes"
    readonly_fields = ("schema", "status", "status_detail", "provisioning_step", "created", "dashboard_link",
                       "owner_invitation")
    fieldsets = (
        (None, {"fields": ("name", "slug", "plan", "owner_email", "owner_invitation", "sector")}),
        (_("Locale"), {"fields": ("default_language", "timezone", "currency")}),
        (_("State"), {"fields": ("status", "status_detail", "provisioning_step", "schema", "created",
                                 "dashboard_link")}),
    )
    add_fieldsets = (
        (None, {"fields": ("name", "slug", "plan", "owner_email", "sector")}),
        (_("Locale"), {"fields": ("default_language", "timezone", "currency")}),
    )
    inlines = [DomainInline, MembershipInline, ApiKeyInline]
    actions = ["action_provision", "action_suspend", "action_reactivate", "action_rotate_secret",
               "action_rotate_publishable", "action_invite_owner", "action_open_dashboard"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fieldsets if obj else self.add_fieldsets

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict[str, tuple[str, ...]]:
        return {} if obj else dict(self.prepopulated_fields)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # Creating a client makes its primary domain, keys and owner itself: the add page asks for nothing else.
        return super().get_inline_instances(request, obj) if obj else []

    @admin.display(description=_("database schema"))
    def schema(self, obj: Client) -> str:
        return obj.schema_name

    @admin.display(description=_("owner's invitation"))
    def owner_invitation(self, obj: Client) -> str:
        if not obj.pk or not obj.owner_email:
            return gettext("No owner e-mail: invite people from Invitations.")
        if selectors.client_owner_joined(client=obj):
            return gettext("%(email)s has joined as owner.") % {"email": obj.owner_email}
        invitation = selectors.client_owner_invitation(client=obj)
        if invitation is not None and invitation.is_pending:
            return invitation_link_field(invitation)
        if obj.status == Client.Status.PROVISIONING:
            return gettext("The link appears here once provisioning is done: reload this page in a few seconds.")
        return gettext("No pending invitation (it expired, was used or was revoked). Use the action “Invite the "
                       "owner again”.")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Client) -> str:
        colours = {"active": "#15803d", "provisioning": "#b45309", "suspended": "#6b7280", "failed": "#b91c1c"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(obj.status, "#000"),
                           obj.get_status_display())

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, obj: Client) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a href="{}" dir="ltr">{}</a>', services.client_url(obj), services.client_url(obj))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields + (("slug",) if obj else ())

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created = services.client_create(
                name=obj.name, slug=obj.slug, plan=obj.plan, owner_email=obj.owner_email,
                default_language=obj.default_language, timezone_name=obj.timezone, currency=obj.currency,
                sector=obj.sector, actor=request.user,
            )
        except VocaliaError as error:
            self.message_user(request, error.message, messages.ERROR)
            raise
        obj.pk = created.pk
        obj.schema_name = created.schema_name
        if created.owner_email:
            request.session[ANNOUNCE_OWNER_LINK] = created.pk
            self.message_user(request, _("Client created; provisioning runs in the background. The owner's "
                                         "invitation link will be on this page once it is done."), messages.INFO)
        else:
            self.message_user(request, _("Client created; provisioning runs in the background."), messages.INFO)

    def response_add(self, request: HttpRequest, obj: Client, post_url_continue: str | None = None) -> HttpResponse:
        """To the new client's page (its state, and soon the owner's link), not back to the list."""
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:clients_client_change", args=[obj.pk]))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        if request.method == "GET" and str(request.session.get(ANNOUNCE_OWNER_LINK)) == str(object_id):
            client = self.get_object(request, object_id)
            invitation = selectors.client_owner_invitation(client=client) if client else None
            if client is None or selectors.client_owner_joined(client=client):
                request.session.pop(ANNOUNCE_OWNER_LINK)
            elif invitation is not None and invitation.is_pending:
                request.session.pop(ANNOUNCE_OWNER_LINK)
                self.message_user(request, format_html("{} {}", gettext("Provisioning is done. Send the owner this "
                                                                        "link to set a password and sign in:"),
                                                       invitation_link_field(invitation)), messages.SUCCESS)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Provision (or retry provisioning)"))
    def action_provision(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            client_provision_task.delay(client.pk)
        self.message_user(request, _("Provisioning queued for %(n)d client(s).") % {"n": queryset.count()})

    @admin.action(description=_("Suspend"))
    def action_suspend(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            services.client_suspend(client=client, actor=request.user, reason="suspended by agency staff")
        self.message_user(request, _("Suspended."))

    @admin.action(description=_("Reactivate"))
    def action_reactivate(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset.filter(status=Client.Status.SUSPENDED):
            services.client_reactivate(client=client, actor=request.user)
        self.message_user(request, _("Reactivated."))

    @admin.action(description=_("Rotate the secret API key"))
    def action_rotate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse:
        # The new keys are shown on the answer itself: a message would carry them in a (readable) cookie.
        rotated = [(client, services.secret_key_rotate(client=client, actor=request.user)[1]) for client in queryset]
        response = TemplateResponse(request, "admin/clients/secret_keys.html",
                                    {**self.admin_site.each_context(request), "opts": self.opts, "rotated": rotated,
                                     "overlap_hours": round(settings.KEY_ROTATION_OVERLAP.total_seconds() / 3600)})
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Rotate the widget key"))
    def action_rotate_publishable(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            key = services.publishable_key_rotate(client=client, actor=request.user)
            self.message_user(request, _("%(client)s: new widget key %(key)s.") % {"client": client.name,
                                                                                  "key": key.lookup})

    @admin.action(description=_("Invite the owner again"))
    def action_invite_owner(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            if not client.owner_email or not client.is_active:
                self.message_user(request, _("%(client)s: an invitation needs an active client with an owner "
                                             "e-mail.") % {"client": client.name}, messages.ERROR)
                continue
            try:
                invitation = services.invitation_create(client=client, email=client.owner_email,
                                                        role=Membership.Role.OWNER, actor=request.user)
            except VocaliaError as error:
                self.message_user(request, f"{client.name}: {error.message}", messages.ERROR)
                continue
            # The link itself stays out of the message: messages travel in a cookie to the next page.
            self.message_user(request, _("%(client)s: invitation sent to %(email)s. Its link is on the client's "
                                         "page, under “Owner's invitation”.")
                              % {"client": client.name, "email": invitation.email}, messages.SUCCESS)

    @admin.action(description=_("Open dashboard as staff (one-time link, audited)"))
    def action_open_dashboard(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponseRedirect | None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one client."), messages.ERROR)
            return None
        client = queryset.get()
        if not client.is_active:
            self.message_user(request, _("Only an active client's dashboard can be opened."), messages.ERROR)
            return None
        return HttpResponseRedirect(services.staff_access_link_create(client=client, staff=request.user,
                                                                      reason="admin action"))


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "monthly_price_eur", "requests_per_minute", "monthly_conversations",
                    "voice_minutes", "chat_turns", "included_messages", "overage_minute_eur", "trial_days",
                    "stripe_price_id", "is_public")
    ordering = ("sort_order",)

    def get_actions(self, request: HttpRequest) -> Any:
        from apps.billing.admin import plans_stripe_sync

        actions = super().get_actions(request)
        actions["plans_stripe_sync"] = (plans_stripe_sync, "plans_stripe_sync", plans_stripe_sync.short_description)
        return actions


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "tenant", "is_primary", "created")
    search_fields = ("domain", "tenant__name")
    autocomplete_fields = ("tenant",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "client", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__email", "client__name")
    autocomplete_fields = ("user", "client")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Made through invitation_create (audited, e-mailed); read-only afterwards, with its link to copy."""

    form = InvitationAdminForm
    list_display = ("email", "client", "role", "state", "created", "expires_at")
    list_filter = ("role",)
    search_fields = ("email", "client__name")
    autocomplete_fields = ("client",)
    fields = ("client", "email", "role", "accept_link", "inviter", "created", "expires_at", "accepted_at",
              "revoked_at")
    readonly_fields = ("accept_link", "inviter")
    actions = ["action_revoke"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields if obj else ("client", "email", "role")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # an invitation is sent, then accepted, revoked or left to expire: never edited

    @admin.display(description=_("Invited by"))
    def inviter(self, obj: Invitation) -> str:
        return obj.invited_by.email if obj.invited_by else "-"

    @admin.display(description=_("State"))
    def state(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return gettext("Accepted")
        if obj.revoked_at:
            return gettext("Revoked")
        return gettext("Pending") if obj.is_pending else gettext("Expired")

    @admin.display(description=_("Invitation link"))
    def accept_link(self, obj: Invitation) -> str:
        if obj.pk and obj.is_pending:
            return invitation_link_field(obj)
        return gettext("%(state)s: this invitation's link no longer works.") % {"state": self.state(obj)}

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        created = services.invitation_create(client=obj.client, email=obj.email, role=obj.role, actor=request.user)
        for field in ("pk", "token", "created", "expires_at", "invited_by_id"):
            setattr(obj, field, getattr(created, field))
        # The link is on the invitation's page (where staff land next), not in the message: messages travel in
        # a cookie.
        self.message_user(request, _("Invitation sent to %(email)s. Its link is on the invitation's page, ready "
                                     "to copy.") % {"email": created.email}, messages.SUCCESS)

    def response_add(self, request: HttpRequest, obj: Invitation, post_url_continue: str | None = None) -> HttpResponse:
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        return HttpResponseRedirect(reverse("admin:clients_invitation_change", args=[obj.pk]))

    @admin.action(description=_("Revoke"))
    def action_revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        for invitation in queryset.select_related("client"):
            services.invitation_revoke(invitation=invitation, actor=request.user)
        self.message_user(request, _("Revoked."))


@admin.register(StaffAccessGrant)
class StaffAccessGrantAdmin(admin.ModelAdmin):
    list_display = ("staff", "client", "reason", "created", "expires_at", "used_at", "used_from_ip")
    readonly_fields = ("staff", "client", "nonce", "reason", "created", "expires_at", "used_at", "used_from_ip")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
