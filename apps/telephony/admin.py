"""Agency staff's view of phone numbers: list, assign (client, agent), point a number's URLs at us."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.errors import VocaliaError
from apps.telephony.models import PhoneNumber
from apps.telephony.selectors import number_route
from apps.telephony.services import number_assign
from apps.telephony.webhooks import signing_provider


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("e164", "client", "agent_id", "provider", "account_source", "status", "voice", "sms", "whatsapp")
    list_filter = ("status", "provider", "account_source")
    search_fields = ("e164", "client__name", "client__slug", "provider_sid")
    autocomplete_fields = ()
    actions = ["action_point_here"]

    @admin.action(description=_("Point the numbers' voice, status and SMS URLs at this platform"))
    def action_point_here(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        done = 0
        for number in queryset:
            try:
                number_assign(number=number, client=number.client, agent_id=number.agent_id, actor=request.user,
                              provider=signing_provider(number_route(number.e164)))
                done += 1
            except VocaliaError as error:
                self.message_user(request, f"{number.e164}: {error.message}", messages.ERROR)
        self.message_user(request, _("%(count)d number(s) updated.") % {"count": done})
