"""Agency staff's view of clients: provision, suspend, rotate keys, open a dashboard (audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.clients import services
from apps.clients.models import ApiKey, Client, Domain, Invitation, Membership, Plan, StaffAccessGrant
from apps.clients.tasks import client_provision_task
from apps.core.errors import VocaliaError


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ("domain", "is_primary", "created")
    readonly_fields = ("created",)


class MembershipInline(admin.TabularInline):
    model = Membership
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
        return obj.display

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "plan", "status_badge", "provisioning_step", "default_language", "created")
    list_filter = ("status", "plan", "default_language")
    search_fields = ("name", "slug", "owner_email", "domains__domain")
    readonly_fields = ("schema_name", "status", "status_detail", "provisioning_step", "created", "dashboard_link")
    fieldsets = (
        (None, {"fields": ("name", "slug", "plan", "owner_email", "sector")}),
        (_("Locale"), {"fields": ("default_language", "timezone", "currency")}),
        (_("State"), {"fields": ("status", "status_detail", "provisioning_step", "schema_name", "created",
                                 "dashboard_link")}),
    )
    inlines = [DomainInline, MembershipInline, ApiKeyInline]
    actions = ["action_provision", "action_suspend", "action_reactivate", "action_rotate_secret",
               "action_rotate_publishable", "action_open_dashboard"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Client) -> str:
        colours = {"active": "#15803d", "provisioning": "#b45309", "suspended": "#6b7280", "failed": "#b91c1c"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(obj.status, "#000"),
                           obj.get_status_display())

    @admin.display(description=_("dashboard"))
    def dashboard_link(self, obj: Client) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a href="{}">{}</a>', services.client_url(obj), services.client_url(obj))

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
        self.message_user(request, _("Client created; provisioning runs in the background."), messages.INFO)

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
    def action_rotate_secret(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            key, full = services.secret_key_rotate(client=client, actor=request.user)
            self.message_user(request, _("%(client)s: new secret key %(key)s (shown once).")
                              % {"client": client.name, "key": full}, messages.WARNING)

    @admin.action(description=_("Rotate the widget key"))
    def action_rotate_publishable(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            key = services.publishable_key_rotate(client=client, actor=request.user)
            self.message_user(request, _("%(client)s: new widget key %(key)s.") % {"client": client.name,
                                                                                  "key": key.lookup})

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
                    "voice_minutes", "knowledge_documents", "allowed_origins", "is_public")
    ordering = ("sort_order",)


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
    list_display = ("email", "client", "role", "created", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("email", "client__name")
    readonly_fields = ("token", "accepted_at")
    autocomplete_fields = ("client",)


@admin.register(StaffAccessGrant)
class StaffAccessGrantAdmin(admin.ModelAdmin):
    list_display = ("staff", "client", "reason", "created", "expires_at", "used_at", "used_from_ip")
    readonly_fields = ("staff", "client", "nonce", "reason", "created", "expires_at", "used_at", "used_from_ip")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
