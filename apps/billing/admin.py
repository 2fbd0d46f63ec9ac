"""The agency's view of billing: each client's prices (price per unit or markup over cost, spend cap), its
subscription state, and the report across clients — revenue, usage, cost and margin per client and month, with
charts and a CSV export. Plans are synced to Stripe from the plan list (action)."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from apps.billing import pricing, selectors, services
from apps.billing.charts import bar_chart
from apps.billing.models import BillingAccount, Invoice
from apps.core.errors import VocaliaError

PRICE_LABELS = {"voice_minutes": _l("Price per voice minute"), "messages": _l("Price per message"),
                "chat_turns": _l("Price per chat reply"), "llm_tokens": _l("Price per language-model token")}


def _price_field(metric: str) -> forms.DecimalField:
    return forms.DecimalField(label=PRICE_LABELS[metric], required=False, min_value=Decimal(0),
                              max_value=Decimal(1000), max_digits=16, decimal_places=9)


class PricingForm(forms.ModelForm):
    """The prices JSON as one decimal field per pool (empty: the markup, else the plan's price)."""

    price_voice_minutes = _price_field("voice_minutes")
    price_messages = _price_field("messages")
    price_chat_turns = _price_field("chat_turns")
    price_llm_tokens = _price_field("llm_tokens")

    class Meta:
        model = BillingAccount
        fields = ("markup_percent", "spend_cap_eur")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for metric in pricing.BILLED_METRICS:
                self.fields[f"price_{metric}"].initial = self.instance.price_for(metric)

    def prices(self) -> dict[str, Decimal | None]:
        return {metric: self.cleaned_data.get(f"price_{metric}") for metric in pricing.BILLED_METRICS}


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    form = PricingForm
    change_list_template = "admin/billing/billingaccount/change_list.html"
    list_display = ("client", "status", "card_on_file", "markup_percent", "spend_cap_eur", "grace_until",
                    "stripe_customer_id")
    list_filter = ("status", "card_on_file")
    search_fields = ("client__name", "client__slug", "stripe_customer_id")
    readonly_fields = ("client", "status", "trial_ends", "grace_until", "card_on_file", "stopped_at",
                       "stripe_customer_id", "stripe_subscription_id", "unit_prices")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return (
            (None, {"fields": ("client", "status", "trial_ends", "grace_until", "card_on_file", "stopped_at")}),
            (_l("Prices"), {"fields": (*(f"price_{m}" for m in pricing.BILLED_METRICS), "markup_percent",
                                       "spend_cap_eur", "unit_prices"),
                            "description": _l("A price per unit wins; else the agency's cost plus the markup; else "
                                              "the plan's price.")}),
            (_l("Stripe"), {"fields": ("stripe_customer_id", "stripe_subscription_id")}),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_l("What the client pays now"))
    def unit_prices(self, obj: BillingAccount) -> str:
        parts = [f"{PRICE_LABELS[m]}: {pricing.unit_price(obj.client.plan, obj, m):.6f} "
                 f"({_('cost')} {pricing.unit_cost(m)})" for m in pricing.BILLED_METRICS]
        return format_html("<br>".join(["{}"] * len(parts)), *parts)

    def save_model(self, request: HttpRequest, obj: BillingAccount, form: Any, change: bool) -> None:
        try:
            services.pricing_set(client=obj.client, actor=request.user, prices=form.prices(),
                                 markup_percent=form.cleaned_data.get("markup_percent"),
                                 spend_cap_eur=form.cleaned_data.get("spend_cap_eur"))
        except VocaliaError as error:
            messages.error(request, error.message)

    def get_urls(self) -> list[Any]:
        return [path("report/", self.admin_site.admin_view(self.report_view), name="billing_report"),
                path("report.csv", self.admin_site.admin_view(self.report_csv), name="billing_report_csv"),
                *super().get_urls()]

    def _months(self, request: HttpRequest) -> int:
        raw = request.GET.get("months", "6")
        return int(raw) if raw.isdigit() and 1 <= int(raw) <= 24 else 6

    def report_view(self, request: HttpRequest) -> HttpResponse:
        report = selectors.agency_report(months=self._months(request))
        rtl = translation.get_language_bidi()
        charts = {
            "revenue": bar_chart([(f"{t['month']:%m/%y}", float(t["revenue"])) for t in report["totals"]],
                                 title=_("Revenue per month"), rtl=rtl),
            "margin": bar_chart([(f"{t['month']:%m/%y}", float(t["margin"])) for t in report["totals"]],
                                title=_("Margin per month"), rtl=rtl),
            "clients": bar_chart([(row.client.name[:12], float(row.margin)) for row in report["current"]],
                                 title=_("Margin per client this month"), rtl=rtl),
        }
        context = {**self.admin_site.each_context(request), "title": _("Billing across clients"), **report,
                   "charts": charts, "csv_url": reverse("admin:billing_report_csv"), "opts": self.model._meta}
        return TemplateResponse(request, "admin/billing/report.html", context)

    def report_csv(self, request: HttpRequest) -> HttpResponse:
        report = selectors.agency_report(months=self._months(request))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="billing-report.csv"'
        writer = csv.writer(response)
        writer.writerow(["client", "slug", "month", "plan", "fee", "overage", "packs", "revenue", "cost", "margin",
                         *pricing.BILLED_METRICS, "conversations"])
        for row in report["rows"]:
            writer.writerow([_csv_safe(row.client.name), row.client.slug, f"{row.month:%Y-%m}", row.client.plan.code,
                             row.fee, row.overage, row.packs, row.revenue, row.cost, row.margin,
                             *(row.usage.get(m, 0) for m in (*pricing.BILLED_METRICS, "conversations"))])
        return response


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is quoted with a leading apostrophe."""
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "client", "period", "status", "total_display", "stripe_invoice_id")
    list_filter = ("status", "period")
    search_fields = ("number", "client__name", "stripe_invoice_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_l("total"))
    def total_display(self, obj: Invoice) -> str:
        return f"{obj.total:.2f} {obj.currency}"


def plans_stripe_sync(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    from apps.billing.stripe_sync import plans_sync_to_stripe

    try:
        count = plans_sync_to_stripe(plans=list(queryset))
    except VocaliaError as error:
        messages.error(request, error.message)
        return
    messages.success(request, _("%(n)d plans synced with Stripe.") % {"n": count})


plans_stripe_sync.short_description = _l("Sync the chosen plans with Stripe (products and prices)")  # type: ignore[attr-defined]
