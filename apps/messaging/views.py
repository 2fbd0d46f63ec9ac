"""Dashboard: the outbox, messaging settings (quiet hours, the reply window) and WhatsApp templates, people and their
channel state, campaigns. Thin: parse, call one service or selector, render. Owners and admins change things; members
see the pages read-only; another client's id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.core.errors import VocaliaError
from apps.integrations.selectors import deliveries_recent
from apps.messaging import campaigns as campaign_services
from apps.messaging import services
from apps.messaging.contacts import contacts_list
from apps.messaging.email_inbound import inbound_email_setup
from apps.messaging.models import CHANNEL_CHOICES, Campaign, WhatsAppTemplate
from apps.messaging.notices import messaging_settings

MAX_UPLOAD = campaign_services.MAX_CSV_BYTES


def _can_manage(request: HttpRequest) -> bool:
    membership = getattr(request, "membership", None)
    return bool(getattr(request, "staff_access", False) or (membership is not None and membership.can_manage))


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


def _flash(request: HttpRequest, error: VocaliaError) -> None:
    if error.status in (403, 404):
        raise error
    messages.error(request, error.message)


def outbox(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/outbox.html", {"outbox": deliveries_recent(limit=500)})


def messaging_home(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/settings.html", {
        "settings_row": messaging_settings(), "templates": WhatsAppTemplate.objects.all()[:200],
        "purposes": WhatsAppTemplate.Purpose.choices, "can_manage": _can_manage(request),
        "variables": ", ".join(services.TEMPLATE_VARIABLES),
        "inbound_email": inbound_email_setup(request.client) if _can_manage(request) else None})  # type: ignore[attr-defined]


@require_POST
def settings_save(request: HttpRequest) -> HttpResponse:
    try:
        services.messaging_settings_update(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                           quiet_start=request.POST.get("quiet_start", ""),
                                           quiet_end=request.POST.get("quiet_end", ""),
                                           reopen_hours=request.POST.get("reopen_hours", ""), ip=_ip(request))
    except VocaliaError as error:
        _flash(request, error)
    else:
        messages.success(request, _("Saved."))
    return redirect("messaging")


@require_POST
def template_add(request: HttpRequest) -> HttpResponse:
    try:
        services.template_save(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                               name=request.POST.get("name", ""), purpose=request.POST.get("purpose", ""),
                               language=request.POST.get("language", ""),
                               content_sid=request.POST.get("content_sid", ""),
                               variables=request.POST.get("variables", ""), preview=request.POST.get("preview", ""),
                               ip=_ip(request))
    except VocaliaError as error:
        _flash(request, error)
    else:
        messages.success(request, _("Template saved."))
    return redirect("messaging")


@require_POST
def template_remove(request: HttpRequest, template_id: int) -> HttpResponse:
    try:
        services.template_delete(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                 template_id=template_id, ip=_ip(request))
    except VocaliaError as error:
        _flash(request, error)
    else:
        messages.success(request, _("Template removed."))
    return redirect("messaging")


def contacts(request: HttpRequest) -> HttpResponse:
    channel = request.GET.get("channel", "")
    channel = channel if channel in dict(CHANNEL_CHOICES) else ""
    query = request.GET.get("q", "").replace("\x00", "")[:100]
    return render(request, "messaging/contacts.html", {
        "contacts": contacts_list(channel=channel, query=query), "channel": channel, "query": query,
        "channels": CHANNEL_CHOICES})


def campaigns(request: HttpRequest) -> HttpResponse:
    return render(request, "messaging/campaigns.html", {
        "campaigns": campaign_services.campaigns_list(),
        "channels": campaign_services.campaign_channels(request.client),  # type: ignore[attr-defined]
        "templates": WhatsAppTemplate.objects.filter(enabled=True), "can_manage": _can_manage(request)})


@require_POST
def campaign_add(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is not None and upload.size > MAX_UPLOAD:
            raise campaign_services.PayloadTooLarge(_("The file is too large (%(mb)d MB at most).")
                                                    % {"mb": MAX_UPLOAD // 1024 // 1024})
        campaign = campaign_services.campaign_create_from_form(
            client=request.client, actor=request.user, ip=_ip(request),  # type: ignore[attr-defined]
            data=request.POST, raw=upload.read(MAX_UPLOAD + 1) if upload is not None else b"")
    except VocaliaError as error:
        if error.status == 413:  # too large: the error page says so, with its status
            raise
        _flash(request, error)
        return redirect("campaigns")
    messages.success(request, _("Campaign created. Check its contacts, then start it."))
    return redirect("campaign", campaign_id=campaign.pk)


def campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    found, progress, recipients = campaign_services.campaign_detail(campaign_id=campaign_id)
    return render(request, "messaging/campaign.html", {"campaign": found, "progress": progress,
                                                       "recipients": recipients, "can_manage": _can_manage(request),
                                                       "statuses": Campaign.Status})


@require_POST
def campaign_action(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    try:
        campaign_services.campaign_set_status(client=request.client, actor=request.user,  # type: ignore[attr-defined]
                                              campaign_id=campaign_id, action=action, ip=_ip(request))
    except VocaliaError as error:
        _flash(request, error)
    return redirect("campaign", campaign_id=campaign_id)
