"""Agency staff's view of phone numbers: search and buy (optionally straight to a client and one of its agents),
import what an account already owns, assign a number to a client and ONE OF ITS agents, create a client's Twilio
subaccount, point numbers' URLs at us. Every screen parses a form, calls one service, renders; the services check
the rest (staff only, the country, the pattern, that the agent is the client's)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from apps.clients.models import Client
from apps.core.errors import VocaliaError
from apps.telephony.accounts import account_for
from apps.telephony.forms import AccountForm, AssignForm, BuyForm, SearchForm, SubaccountForm
from apps.telephony.models import PhoneNumber, TwilioSubaccount
from apps.telephony.selectors import agents_of_client
from apps.telephony.services import (
    client_subaccount_ensure,
    number_assign,
    number_buy,
    numbers_import,
    numbers_search,
)


def _form_errors(form: Any) -> str:
    return " ".join(f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".strip(": ")
                    for name, errors in form.errors.items())


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("e164", "friendly_name", "client", "agent_id", "provider", "account_source", "status", "voice",
                    "sms", "whatsapp")
    list_filter = ("status", "provider", "account_source")
    search_fields = ("e164", "client__name", "client__slug", "provider_sid")
    # Who a number belongs to changes only through the Assign screen (the agent is checked, the URLs pointed here).
    readonly_fields = ("e164", "client", "agent_id", "status", "provider", "provider_sid", "account_source",
                       "account_sid", "created", "updated")
    fields = ("e164", "friendly_name", "client", "agent_id", "status", "voice", "sms", "whatsapp", "provider",
              "provider_sid", "account_source", "account_sid", "created", "updated")
    change_list_template = "admin/telephony/phonenumber/change_list.html"
    change_form_template = "admin/telephony/phonenumber/change_form.html"
    actions = ["action_point_here"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # numbers arrive by "Search and buy" or "Import"

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [path("search/", view(self.search_view), name="telephony_number_search"),
                path("buy/", view(self.buy_view), name="telephony_number_buy"),
                path("import/", view(self.import_view), name="telephony_number_import"),
                path("subaccount/", view(self.subaccount_view), name="telephony_subaccount_create"),
                path("<int:number_id>/assign/", view(self.assign_view), name="telephony_number_assign"),
                *super().get_urls()]

    def _staff_only(self, request: HttpRequest) -> None:
        if not self.has_change_permission(request):
            raise PermissionDenied

    def _render(self, request: HttpRequest, template: str, title: str, **context: Any) -> TemplateResponse:
        return TemplateResponse(request, f"admin/telephony/phonenumber/{template}", {
            **self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **context})

    def _changelist(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:telephony_phonenumber_changelist"))

    # --- search and buy -----------------------------------------------------------------------------------------

    def search_view(self, request: HttpRequest) -> HttpResponse:
        self._staff_only(request)
        form = SearchForm(request.GET or None)
        results, error, client, agents = [], "", None, []
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            client = data["client"]
            try:
                results = numbers_search(account=account_for(source=data["account"], client=client),
                                         country=data["country"], contains=data["contains"],
                                         capabilities=tuple(data["capabilities"]), actor=request.user)
            except VocaliaError as failure:
                error = failure.message
            agents = agents_of_client(client=client) if client is not None else []
        elif form.is_bound:
            error = _form_errors(form)
        return self._render(request, "search.html", _("Search and buy numbers"), form=form, results=results,
                            error=error, client=client, agents=agents,
                            account=form.cleaned_data.get("account", "") if form.is_bound and form.is_valid() else "",
                            searched=form.is_bound, subaccount_form=SubaccountForm())

    def buy_view(self, request: HttpRequest) -> HttpResponse:
        self._staff_only(request)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:telephony_number_search"))
        form = BuyForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _form_errors(form), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:telephony_number_search"))
        data = form.cleaned_data
        try:
            number = number_buy(account=account_for(source=data["account"], client=data["client"]),
                                e164=data["number"], client=data["client"], agent_id=data["agent"],
                                actor=request.user)
        except VocaliaError as failure:
            self.message_user(request, failure.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:telephony_number_search"))
        self.message_user(request, _("%(number)s bought and pointed at this platform.") % {"number": number.e164})
        return self._changelist()

    # --- import -------------------------------------------------------------------------------------------------

    def import_view(self, request: HttpRequest) -> HttpResponse:
        self._staff_only(request)
        account_form = AccountForm(request.POST or None)
        if request.method == "POST":
            if not account_form.is_valid():
                self.message_user(request, _form_errors(account_form), messages.ERROR)
            else:
                data = account_form.cleaned_data
                try:
                    stored = numbers_import(account=account_for(source=data["account"], client=data["client"]),
                                            client=data["client"] if data["account"] != "agency" else None,
                                            actor=request.user)
                except VocaliaError as failure:
                    self.message_user(request, failure.message, messages.ERROR)
                else:
                    self.message_user(request, _("%(count)d number(s) imported.") % {"count": len(stored)})
                    return self._changelist()
        return self._render(request, "import.html", _("Import numbers from an account"), form=account_form)

    def subaccount_view(self, request: HttpRequest) -> HttpResponse:
        self._staff_only(request)
        form = SubaccountForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                subaccount = client_subaccount_ensure(client=form.cleaned_data["client"], actor=request.user)
            except VocaliaError as failure:
                self.message_user(request, failure.message, messages.ERROR)
            else:
                self.message_user(request, _("%(client)s has its Twilio subaccount %(sid)s.")
                                  % {"client": subaccount.client.name, "sid": subaccount.account_sid})
        elif request.method == "POST":
            self.message_user(request, _form_errors(form), messages.ERROR)
        return HttpResponseRedirect(reverse("admin:telephony_number_search"))

    # --- assign -------------------------------------------------------------------------------------------------

    def assign_view(self, request: HttpRequest, number_id: int) -> HttpResponse:
        self._staff_only(request)
        number = get_object_or_404(PhoneNumber, pk=number_id)
        form = AssignForm(request.POST or None, initial={"client": number.client_id, "agent": number.agent_id})
        if request.method == "POST":
            if form.is_valid():
                try:
                    number_assign(number=number, client=form.cleaned_data["client"],
                                  agent_id=form.cleaned_data["agent"], actor=request.user)
                except VocaliaError as failure:
                    self.message_user(request, failure.message, messages.ERROR)
                else:
                    self.message_user(request, _("%(number)s assigned.") % {"number": number.e164})
                    return self._changelist()
            else:
                self.message_user(request, _form_errors(form), messages.ERROR)
        chosen = form.cleaned_data.get("client") if form.is_bound and form.is_valid() else None
        if chosen is None and not form.is_bound:
            chosen = number.client
        picked = request.GET.get("client", "")
        if picked.isascii() and picked.isdigit() and len(picked) <= 10:  # "Show its agents" (a GET)
            chosen = Client.objects.filter(pk=int(picked)).first() or chosen
        return self._render(request, "assign.html", _("Assign %(number)s") % {"number": number.e164},
                            number=number, form=form, chosen=chosen,
                            agents=agents_of_client(client=chosen) if chosen is not None else [])

    @admin.action(description=_l("Point the numbers' voice, status and SMS URLs at this platform"))
    def action_point_here(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        done = 0
        for number in queryset:
            try:
                number_assign(number=number, client=number.client, agent_id=number.agent_id, actor=request.user)
                done += 1
            except VocaliaError as error:
                self.message_user(request, f"{number.e164}: {error.message}", messages.ERROR)
        self.message_user(request, _("%(count)d number(s) updated.") % {"count": done})


@admin.register(TwilioSubaccount)
class TwilioSubaccountAdmin(admin.ModelAdmin):
    list_display = ("client", "account_sid", "provider", "friendly_name", "created")
    fields = ("client", "account_sid", "provider", "friendly_name", "created")  # the token is never shown
    readonly_fields = fields
    search_fields = ("client__name", "client__slug", "account_sid")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by "Create a subaccount" on the Search and buy screen

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
