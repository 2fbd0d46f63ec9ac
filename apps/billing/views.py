"""The client's Billing page (dashboard): parse, call one service or selector, render."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from apps.billing import services
from apps.billing.charts import bar_chart
from apps.billing.selectors import billing_overview
from apps.core.errors import InvalidInput, VocaliaError
from apps.core.inputs import int_field, text_clean


def _form(request: HttpRequest) -> dict[str, Any]:
    return {key: text_clean(value, field=key)[:100] for key, value in request.POST.items()}


def _back() -> HttpResponse:
    return redirect("billing")


def billing(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    with tenant_context(client):
        overview = billing_overview(client=client)
    rtl = translation.get_language_bidi()
    for meter in overview["meters"]:
        meter.daily_chart = bar_chart(meter.daily, title=_("%(usage)s per day this month") % {"usage": meter.label},
                                      rtl=rtl)
        meter.monthly_chart = bar_chart(meter.monthly, title=_("%(usage)s per month") % {"usage": meter.label},
                                        rtl=rtl, limit=meter.included or None)
    overview["form_key"] = uuid.uuid4().hex
    overview["offline"] = services.billing_provider(client).is_twin
    if request.GET.get("checkout") == "done":
        messages.info(request, _("Thank you: your plan changes as soon as the payment is confirmed."))
    return render(request, "billing/page.html", overview)


@require_POST
def plan_choose(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri(reverse("billing"))
    try:
        url = services.plan_change(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                   plan_code=_form(request).get("plan", ""), success_url=f"{base}?checkout=done",
                                   cancel_url=base)
    except VocaliaError as error:
        messages.error(request, error.message)
        return _back()
    if url:
        return HttpResponseRedirect(url)
    messages.success(request, _("Your plan has changed."))
    return _back()


@require_POST
def portal(request: HttpRequest) -> HttpResponse:
    try:
        url = services.portal_link(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                   return_url=request.build_absolute_uri(reverse("billing")))
    except VocaliaError as error:
        messages.error(request, error.message)
        return _back()
    if url:
        return HttpResponseRedirect(url)
    messages.info(request, _("Offline mode: cards, plan and invoices are managed on this page."))
    return _back()


@require_POST
def pack_buy(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    try:
        minutes = int_field(form, "minutes")
        entry = services.pack_buy(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                  minutes=minutes or 0, key=form.get("key") or uuid.uuid4().hex)
        messages.success(request, _("%(n)d minutes added to your wallet.") % {"n": entry.minutes})
    except VocaliaError as error:
        messages.error(request, error.message)
    return _back()


@require_POST
def wallet_settings(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    try:
        threshold, pack = int_field(form, "threshold_minutes"), int_field(form, "pack_minutes")
        if threshold is None or pack is None:
            raise InvalidInput(_("Fill in the threshold and the pack."))
        services.wallet_settings_update(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                        auto_recharge=form.get("auto_recharge") == "on", threshold_minutes=threshold,
                                        pack_minutes=pack)
        messages.success(request, _("Wallet settings saved."))
    except VocaliaError as error:
        messages.error(request, error.message)
    return _back()


@require_POST
def card_offline(request: HttpRequest) -> HttpResponse:
    try:
        services.card_set_offline(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                  on=_form(request).get("on") == "1")
        messages.success(request, _("Card updated."))
    except VocaliaError as error:
        messages.error(request, error.message)
    return _back()
