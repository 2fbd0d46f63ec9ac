"""The widget's public API, on the platform host under /widget/v1/.

Every request: the publishable key (`X-Vocalia-Key`, or `?key=` on GET) finds the client; the
browser's `Origin` must be on that client's allow-list (scheme, host and port exact, or a
`*.example.com` wildcard); CORS preflights are answered; rate limits apply per client (plan)
and per visitor. A conversation is carried by a signed, expiring token in `X-Vocalia-Token`.
Refusals are recorded for the install page. Errors are JSON `{"error": {"code", "message"}}`
with CORS headers, so the widget can say why in the console.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import tenant_context

from apps.agents import engine
from apps.agents.models import LANGUAGE_CODES
from apps.clients.entitlements import client_may
from apps.clients.models import Client
from apps.clients.selectors import client_by_publishable_key, publishable_key_owner
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import widget_updates
from apps.conversations.services import conversation_human_answering
from apps.core.errors import (
    ClientUnavailable,
    InvalidInput,
    InvalidKey,
    RateLimited,
    VocaliaError,
    json_error,
)
from apps.core.inputs import body_object, int_field, text_field
from apps.core.platform_cache import MISSING, cache_get, cache_set
from apps.core.ratelimit import rate_limit_hit
from apps.crm.services import lead_qualify
from apps.voice.providers import recognised_languages
from apps.widget.events import event_payload
from apps.widget.models import WidgetRejection, WidgetSettings
from apps.widget.selectors import conversation_from_token, widget_agent, widget_language
from apps.widget.services import (
    client_rate_hit,
    conversation_open,
    origin_check,
    rejection_record,
    sighting_record,
    widget_greeting,
)

ALLOWED_HEADERS = "Content-Type, X-Vocalia-Key, X-Vocalia-Token, Accept"
_ECHOABLE = re.compile(r"^[\x21-\x7e]+$")
MAX_BODY = 16 * 1024


@dataclass
class WidgetCall:
    client: Client
    origin: str
    settings: WidgetSettings
    body: dict[str, Any]


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    """CORS headers for `origin`; one that could never be an origin (a newline, a NUL) is not echoed back."""
    if origin and _ECHOABLE.match(origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def _preflight(request: HttpRequest, methods: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = f"{methods}, OPTIONS"
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Max-Age"] = "600"
    return _cors(response, request.headers.get("Origin", ""))


def _gate(request: HttpRequest, methods: str) -> HttpResponse | None:
    """The answer to a preflight or to a method the endpoint does not take; None to go on."""
    if request.method == "OPTIONS":
        return _preflight(request, methods)
    if request.method not in methods.split(", "):
        return _cors(json_error(405, "method_not_allowed", _("Method not allowed.")),
                     request.headers.get("Origin", ""))
    return None


def _error(error: VocaliaError, origin: str) -> HttpResponse:
    return _cors(json_error(error.status, error.code, error.message, error.headers), origin)


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    return body_object(request, max_bytes=MAX_BODY)


def _authorise(request: HttpRequest, *, limit_scope: str) -> WidgetCall:
    """Key → client, Origin → allow-list, rate limits. Records refusals for the install page."""
    key = request.headers.get("X-Vocalia-Key") or request.GET.get("key", "")
    origin = request.headers.get("Origin", "")
    client = client_by_publishable_key(key)
    if client is None:
        owner = publishable_key_owner(key)
        if owner is not None:
            rejection_record(client=owner, reason=WidgetRejection.Reason.KEY_REVOKED, origin=origin)
        raise InvalidKey()
    if client.status != Client.Status.ACTIVE:
        rejection_record(client=client, reason=WidgetRejection.Reason.CLIENT_UNAVAILABLE, origin=origin)
        raise ClientUnavailable()
    settings_row = origin_check(client, origin)
    try:
        if limit_scope == "poll":  # the widget asking for the team's replies: per conversation, not the client's rate
            token = request.headers.get("X-Vocalia-Token", "")[:40]
            rate_limit_hit(scope="widget-poll", identity=f"{client.pk}:{token}", limit=settings.WIDGET_POLLS_PER_MINUTE)
        else:
            client_rate_hit(client)
        if limit_scope == "visitor":
            visitor = request.headers.get("X-Vocalia-Token", "")[:40] or request.META.get("REMOTE_ADDR", "")
            rate_limit_hit(scope="widget-visitor", identity=f"{client.pk}:{visitor}",
                           limit=settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE)
    except RateLimited:
        rejection_record(client=client, reason=WidgetRejection.Reason.RATE_LIMITED, origin=origin)
        raise
    return WidgetCall(client=client, origin=origin, settings=settings_row, body=_body(request))


def widget_endpoint(methods: str, *, limit_scope: str = "client") -> Callable[..., Any]:
    """CORS, authorisation and error mapping around a sync widget view `view(request, call)`."""

    def decorate(view: Callable[[HttpRequest, WidgetCall], HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        def wrapper(request: HttpRequest) -> HttpResponse:
            origin = request.headers.get("Origin", "")
            early = _gate(request, methods)
            if early is not None:
                return early
            try:
                return _cors(view(request, _authorise(request, limit_scope=limit_scope)), origin)
            except VocaliaError as error:
                return _error(error, origin)

        return wrapper

    return decorate


@widget_endpoint("GET")
def config(request: HttpRequest, call: WidgetCall) -> HttpResponse:
    cached = cache_get("widget-config", call.client.pk)
    if cached is not MISSING:
        return HttpResponse(cached, content_type="application/json")
    response = _config(call)
    cache_set(response.content, "widget-config", call.client.pk)
    return response


def _config(call: WidgetCall) -> JsonResponse:
    with tenant_context(call.client):
        agent = widget_agent(call.settings)
        languages = [code for code in (call.settings.languages or LANGUAGE_CODES) if code in agent.languages]
        greetings = {code: widget_greeting(call.settings, agent, code) for code in languages}
    return JsonResponse({
        "client": {"name": call.client.name},
        "languages": languages, "default_language": widget_language(call.client, call.settings, "", agent),
        "theme": {"color": call.settings.color, "position": call.settings.position,
                  "avatar": call.settings.avatar_url},
        "greeting": greetings, "launcher": call.settings.launcher_text,
        "features": {"voice": client_may(call.client, "voice_widget"), "voice_recognition": recognised_languages(),
                     "booking": client_may(call.client, "booking"),
                     "leads": client_may(call.client, "lead_qualification")},
    })


@widget_endpoint("POST")
def conversation_create(request: HttpRequest, call: WidgetCall) -> JsonResponse:
    return JsonResponse(conversation_open(client=call.client, settings_row=call.settings, origin=call.origin,
                                          body=call.body, channel=Conversation.Channel.WIDGET_TEXT), status=201)


def _conversation(request: HttpRequest, call: WidgetCall) -> Conversation:
    return conversation_from_token(call.client, request.headers.get("X-Vocalia-Token", ""))


@widget_endpoint("GET")
def history(request: HttpRequest, call: WidgetCall) -> JsonResponse:
    with tenant_context(call.client):
        conversation = _conversation(request, call)
        rows = conversation.messages.filter(role__in=VISITOR_ROLES).select_related("author").order_by("id")
        messages = [_shown(row) for row in rows[:200]]
        human = conversation_human_answering(conversation)
    return JsonResponse({"conversation": conversation.pk, "language": conversation.language,
                         "ended": conversation.ended is not None, "human": human, "messages": messages})


VISITOR_ROLES = [Message.Role.USER, Message.Role.ASSISTANT, Message.Role.MEMBER, Message.Role.NOTICE]


def _shown(row: Message) -> dict[str, Any]:
    """A message as the visitor sees it: a team member by first name only, never their e-mail address."""
    shown = {"id": row.pk, "role": row.role, "text": row.text, "at": row.created.isoformat()}
    if row.role == Message.Role.MEMBER:
        shown["name"] = (row.author.first_name if row.author_id and row.author else "") or ""
    return shown


@widget_endpoint("GET", limit_scope="poll")
def updates(request: HttpRequest, call: WidgetCall) -> JsonResponse:
    """The team's replies and notices after message `after` (the widget polls while a person answers)."""
    after = int_field(request.GET, "after") or 0
    with tenant_context(call.client):
        conversation = _conversation(request, call)
        rows = widget_updates(conversation=conversation, after=after)
        human = conversation_human_answering(conversation)
    return JsonResponse({"human": human, "ended": conversation.ended is not None,
                         "messages": [_shown(row) for row in rows]})


@widget_endpoint("POST")
def seen(request: HttpRequest, call: WidgetCall) -> JsonResponse:
    sighting_record(client=call.client, origin=call.origin, page_url=text_field(call.body, "page", limit=1000))
    return JsonResponse({"ok": True})


@widget_endpoint("POST", limit_scope="visitor")
def lead_capture(request: HttpRequest, call: WidgetCall) -> JsonResponse:
    body = call.body
    name, email = text_field(body, "name", limit=120), text_field(body, "email", limit=254)
    phone, need = text_field(body, "phone", limit=32), text_field(body, "message", limit=2000)
    with tenant_context(call.client):
        conversation = None
        if request.headers.get("X-Vocalia-Token"):
            conversation = _conversation(request, call)
        lead = lead_qualify(conversation=conversation, name=name, email=email, phone=phone, need=need)
    return JsonResponse({"lead": lead.pk, "score": lead.score}, status=201)


# --- messages: JSON, or server-sent events as the reply is generated ----------------------------------------


def _prepare_message(request: HttpRequest) -> tuple[WidgetCall, engine.OpenedTurn]:
    """The request's checks and the turn's first database hop, in one thread hop (a built-in turn: all of it)."""
    call = _authorise(request, limit_scope="visitor")
    text = call.body.get("text")
    if not isinstance(text, str):
        raise InvalidInput(_("Send the message as {\"text\": \"…\"}."))
    with tenant_context(call.client):
        conversation = _conversation(request, call)
        return call, engine.turn_open(client=call.client, conversation=conversation, text=text)


@csrf_exempt
async def message_create(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    early = _gate(request, "POST")
    if early is not None:
        return early
    try:
        call, opened = await sync_to_async(_prepare_message, thread_sensitive=True)(request)
    except VocaliaError as error:
        return _error(error, origin)
    stream = engine.turn_continue(client=call.client, opened=opened)
    if "text/event-stream" in request.headers.get("Accept", ""):
        response = StreamingHttpResponse(_sse(stream), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return _cors(response, origin)
    events: list[dict[str, Any]] = []
    reply = ""
    try:
        async for event in stream:
            payload = event_payload(event)
            if payload:
                events.append({"type": payload[0], **payload[1]})
            if isinstance(event, engine.TurnDone):
                reply = event.text
    except VocaliaError as error:
        return _error(error, origin)
    return _cors(JsonResponse({"reply": reply, "events": events}), origin)


async def _sse(stream: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        async for event in stream:
            payload = event_payload(event)
            if payload:
                name, data = payload
                yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
    except VocaliaError as error:
        yield f"event: error\ndata: {json.dumps({'code': error.code, 'message': error.message})}\n\n".encode()
