"""Widget settings, sightings and rejections (public schema); who may use the widget (origin, rate); starting a
widget conversation. Shared by the HTTP API (views.py) and the voice socket (voice.py)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.billing.usage import usage_require
from apps.clients.entitlements import quota_require
from apps.clients.models import Client
from apps.clients.selectors import client_by_host
from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversation_start, message_add
from apps.core.errors import InvalidInput, OriginNotAllowed, QuotaExceeded
from apps.core.inputs import object_field, text_field
from apps.core.platform_cache import MISSING, cache_delete_many, cache_get, cache_set
from apps.core.ratelimit import rate_limit_hit
from apps.widget.models import WidgetRejection, WidgetSettings, WidgetSighting
from apps.widget.origins import DEFAULT_PORTS, InvalidOrigin, normalise_origin, origin_allowed
from apps.widget.selectors import widget_agent, widget_language
from apps.widget.tokens import TOKEN_TTL, token_issue

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
LANGUAGES = ["fr", "en", "es", "ar", "ary"]


def widget_settings(client: Client) -> WidgetSettings:
    """The client's widget settings (cached; created with defaults the first time)."""
    cached = cache_get("widget", client.pk)
    if cached is not MISSING:
        return cached
    settings_row, _created = WidgetSettings.objects.get_or_create(
        client=client, defaults={"languages": LANGUAGES, "color": "#4f46e5"})
    cache_set(settings_row, "widget", client.pk)
    return settings_row


def _forget(client_id: int) -> None:
    cache_delete_many([("widget", client_id), ("widget-config", client_id)])


def widget_origins_set(*, client: Client, origins: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in origins:
        if not str(raw).strip():
            continue
        try:
            origin = normalise_origin(str(raw))
        except InvalidOrigin as error:
            raise InvalidInput(_("“%(origin)s” is not a valid domain: %(error)s.") % {"origin": raw, "error": error}) \
                from None
        if origin not in cleaned:
            cleaned.append(origin)
    try:
        quota_require(client, "allowed_origins", used=len(cleaned), adding=0)
    except QuotaExceeded:
        raise InvalidInput(_("Your plan allows %(n)d domains.") % {"n": client.plan.allowed_origins}) from None
    settings_row = WidgetSettings.objects.get_or_create(client=client)[0]
    settings_row.allowed_origins = cleaned
    settings_row.save(update_fields=["allowed_origins", "updated"])
    _forget(client.pk)
    return cleaned


def widget_appearance_set(*, client: Client, color: str, position: str, languages: list[str],
                          greeting: dict[str, str], launcher_text: dict[str, str], agent_id: int | None,
                          avatar_url: str = "") -> WidgetSettings:
    if not COLOR_RE.match(color or ""):
        raise InvalidInput(_("The colour must look like #4f46e5."))
    if position not in WidgetSettings.Position.values:
        raise InvalidInput(_("Unknown position."))
    chosen = [code for code in languages if code in LANGUAGES]
    if not chosen:
        raise InvalidInput(_("Choose at least one language."))
    settings_row = WidgetSettings.objects.get_or_create(client=client)[0]
    settings_row.color, settings_row.position, settings_row.languages = color.lower(), position, chosen
    settings_row.greeting = {code: str(text)[:300] for code, text in greeting.items() if code in LANGUAGES and text}
    settings_row.launcher_text = {code: str(text)[:40] for code, text in launcher_text.items()
                                  if code in LANGUAGES and text}
    settings_row.agent_id, settings_row.avatar_url = agent_id, avatar_url[:200]
    settings_row.save()
    _forget(client.pk)
    return settings_row


def _host_port(origin: str) -> tuple[str, int]:
    """'https://shop.example' → ('shop.example', 443). Raises InvalidOrigin."""
    scheme, rest = normalise_origin(origin).split("://", 1)
    host, _colon, port = rest.partition(":")
    return host, int(port) if port else DEFAULT_PORTS[scheme]


def origin_is_vocalia(origin: str) -> bool:
    """A page Vocalia serves itself: a client's dashboard (the install page's live preview runs the real widget
    there) or the platform's own host. The widget showing there says nothing about the client's website."""
    try:
        host, port = _host_port(origin)
    except InvalidOrigin:
        return False
    if client_by_host(host) is not None:
        return True
    platform_host, platform_port = _host_port(django_settings.PUBLIC_URL.rstrip("/"))
    hosts = {name.lower() for name in django_settings.PLATFORM_HOSTS} | {platform_host}
    return host in hosts and port == platform_port  # another port of localhost is a site (`make site`)


def sighting_record(*, client: Client, origin: str, page_url: str = "") -> bool:
    """Count one page view of the widget on `origin`; False, and nothing stored, for Vocalia's own pages."""
    if origin_is_vocalia(origin):
        return False
    now = timezone.now()
    updated = WidgetSighting.objects.filter(client=client, origin=origin).update(
        last_seen=now, page_url=page_url[:1000], count=F("count") + 1)
    if not updated:
        try:
            with transaction.atomic():
                WidgetSighting.objects.create(client=client, origin=origin, page_url=page_url[:1000])
        except IntegrityError:  # a concurrent first sighting
            pass
    return True


def rejection_record(*, client: Client, reason: str, origin: str = "") -> None:
    origin = _CONTROL.sub("", origin)[:300]  # a forged header may hold a NUL, which PostgreSQL refuses
    now = timezone.now()
    updated = WidgetRejection.objects.filter(client=client, reason=reason, origin=origin).update(
        last_seen=now, count=F("count") + 1)
    if not updated:
        try:
            with transaction.atomic():
                WidgetRejection.objects.create(client=client, reason=reason, origin=origin)
        except IntegrityError:
            pass


def widget_state(client: Client) -> dict[str, Any]:
    """For the install page: where the widget was seen (on the client's sites, not on Vocalia's own pages, which
    older rows may still name) and why it was refused."""
    sightings = [row for row in WidgetSighting.objects.filter(client=client)[:40] if not origin_is_vocalia(row.origin)]
    return {"sightings": sightings[:20],
            "rejections": list(WidgetRejection.objects.filter(client=client)[:20])}


# --- who may use the widget, and starting a conversation (the HTTP API and the voice socket) ------------


def client_rate_hit(client: Client) -> None:
    """Count one widget request against the client's rate (its plan's requests per minute × the multiplier)."""
    rate_limit_hit(scope="widget", identity=str(client.pk),
                   limit=client.plan.requests_per_minute * django_settings.WIDGET_RATE_MULTIPLIER)


def origin_check(client: Client, origin: str) -> WidgetSettings:
    """The client's widget settings when `origin` may use its widget; else OriginNotAllowed, recorded.

    Allowed: an origin on the client's list, and the client's own dashboard host (the install page's preview).
    """
    settings_row = widget_settings(client)
    if not origin:
        raise OriginNotAllowed(_("The widget only answers browsers: the Origin header is missing."))
    if settings_row.allowed_origins and origin_allowed(origin, settings_row.allowed_origins):
        return settings_row
    if _is_own_dashboard(origin, client):
        return settings_row
    if not settings_row.allowed_origins:
        rejection_record(client=client, reason=WidgetRejection.Reason.NO_ALLOWED_ORIGINS, origin=origin)
        raise OriginNotAllowed(_("No website domain is allowed yet for this widget."))
    rejection_record(client=client, reason=WidgetRejection.Reason.ORIGIN_NOT_ALLOWED, origin=origin)
    raise OriginNotAllowed(_("%(origin)s is not on this widget's list of allowed domains.") % {"origin": origin})


def _is_own_dashboard(origin: str, client: Client) -> bool:
    try:
        host = normalise_origin(origin).split("://", 1)[1].split(":", 1)[0]
    except InvalidOrigin:
        return False
    return client_by_host(host) == client


def widget_greeting(settings_row: WidgetSettings, agent: Any, language: str) -> str:
    """The install page's greeting, else the agent's own in that language, else a plain one in that language —
    never another language's (an Arabic visitor was greeted in French when the agent had no Arabic text)."""
    if settings_row.greeting.get(language):
        return str(settings_row.greeting[language])
    own = (agent.texts.get(language) or {}).get("greeting")
    if own:
        try:
            return str(own).format_map({key: value or "" for key, value in agent.placeholders().items()})
        except (KeyError, ValueError, IndexError):
            return str(own)
    with translation.override(language):
        return _("Hello! How can I help you?")


def conversation_open(*, client: Client, settings_row: WidgetSettings, origin: str, body: dict[str, Any],
                      channel: str) -> dict[str, Any]:
    """Start a widget conversation (text or voice) within the quota; its id, signed token and language."""
    visitor = text_field(body, "visitor", limit=80)
    asked_language, page, context = text_field(body, "language"), text_field(body, "page", limit=500), \
        object_field(body, "context")
    with tenant_context(client):
        try:
            usage_require(client=client, kind="conversation")  # the month's conversations, or billing paused
        except QuotaExceeded:
            rejection_record(client=client, reason=WidgetRejection.Reason.QUOTA_EXCEEDED, origin=origin)
            raise
        agent = widget_agent(settings_row)
        language = widget_language(client, settings_row, asked_language, agent)
        metadata = {"origin": origin, "page": page, "greeted": True, "context": context}
        conversation = conversation_start(agent=agent, channel=channel, language=language,
                                          visitor_id=visitor, metadata=metadata)
        if channel == Conversation.Channel.WIDGET_TEXT:  # the greeting the widget shows first, kept for a reload
            message_add(conversation=conversation, role=Message.Role.ASSISTANT, provider="greeting",
                        text=widget_greeting(settings_row, agent, language))
    token = token_issue(client_id=client.pk, conversation_id=conversation.pk, visitor=visitor)
    return {"conversation": conversation.pk, "token": token, "language": language,
            "expires_in": int(TOKEN_TTL.total_seconds())}
