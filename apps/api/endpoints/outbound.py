"""Outbound calls the agent places (list, get, request, cancel) and the do-not-call list (list, add, remove).
Every route needs the plan's `outbound_calls` feature; a call request follows the dashboard's rules
(apps/outbound/services.outbound_call_request: consent, do-not-call list, calling hours)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.pagination import query_choice
from apps.outbound import selectors, services
from apps.outbound.models import DoNotCall, OutboundCall
from apps.outbound.services import FEATURE

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class CallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    purpose = serializers.ChoiceField(choices=OutboundCall.Purpose.values,
                                      help_text="`callback`: the agent's promised callback; `manual`: requested.")
    to = serializers.CharField()
    name = serializers.CharField()
    reason = serializers.CharField()
    language = serializers.CharField()
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    callback = serializers.IntegerField(source="callback_id", allow_null=True)
    status = serializers.ChoiceField(choices=OutboundCall.Status.values)
    detail = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    answered_by = serializers.CharField()
    history = serializers.ListField(child=serializers.DictField(), help_text='[{"at", "status", "detail"}, …]')
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "outbound_call"


class CallCreateSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=32, help_text="International format, like +33612345678.")
    reason = serializers.CharField(max_length=2000, help_text="Why the agent calls: it tells the person.")
    name = serializers.CharField(max_length=120, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False,
                                       help_text="The client's default language when omitted.")
    consent_source = serializers.CharField(max_length=200, allow_blank=True, required=False,
                                           help_text="How the person agreed to be called by an AI voice (a form, a "
                                                     "conversation…). Without it, a consent must already be on "
                                                     "record for the number.")


class DncSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    phone = serializers.CharField()
    reason = serializers.CharField()
    source = serializers.ChoiceField(choices=DoNotCall.Source.values)
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "do_not_call"


class DncCreateSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text="International format, like +33612345678.")
    reason = serializers.CharField(max_length=200, allow_blank=True, required=False)


CALL = {"id": 9, "object": "outbound_call", "purpose": "manual", "to": "+33612345678", "name": "Marie Dupont",
        "reason": "Confirmer le devis de la terrasse", "language": "fr", "agent": None, "callback": None,
        "status": "scheduled", "detail": "", "attempts": 0, "next_attempt_at": "2026-12-02T08:00:00Z",
        "answered_by": "", "history": [{"at": "2026-12-01T19:00:00Z", "status": "scheduled",
                                        "detail": "2026-12-02T08:00:00+00:00"}],
        "created": "2026-12-01T19:00:00Z", "updated": "2026-12-01T19:00:00Z"}
DNC = {"id": 2, "object": "do_not_call", "phone": "+33698765432", "reason": "Asked not to be called",
       "source": "api", "created": "2026-12-01T19:05:00Z"}


def _page(one: dict[str, Any]) -> list[OpenApiExample]:
    return [OpenApiExample("A page", response_only=True,
                           value={"object": "list", "data": [one], "has_more": False, "next_cursor": None})]


class CallListApi(ListApi):
    serializer_class = CallSerializer
    required_feature = FEATURE

    @extend_schema(operation_id="outbound_calls_list", tags=["outbound calls"], summary="List outbound calls",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=OutboundCall.Status.values),
                               OpenApiParameter("purpose", str, enum=OutboundCall.Purpose.values)],
                   responses={200: list_of(CallSerializer), **errors()}, examples=_page(CALL))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[OutboundCall]:
        params = request.query_params
        return selectors.calls_list(status=query_choice(params, "status", OutboundCall.Status.values),
                                    purpose=query_choice(params, "purpose", OutboundCall.Purpose.values))

    @extend_schema(operation_id="outbound_calls_create", tags=["outbound calls"], summary="Request an outbound call",
                   description="The agent calls at the first moment the calling hours allow. Refused (400) when the "
                               "number is on the do-not-call list, when no consent is on record (give "
                               "`consent_source`), or when the client has no number to call from.",
                   request=CallCreateSerializer, responses={201: CallSerializer, **errors()},
                   examples=[OpenApiExample("Request", request_only=True, value={
                       "to": "+33612345678", "reason": "Confirmer le devis de la terrasse", "name": "Marie Dupont",
                       "language": "fr", "consent_source": "Formulaire de contact du 1er décembre"}),
                             OpenApiExample("Scheduled", value=CALL, response_only=True, status_codes=["201"])])
    def post(self, request: Request) -> Response:
        form = CallCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        call = services.outbound_call_request(
            client=request.auth, actor=request.user, to=data["to"], reason=data["reason"],
            name=data.get("name", ""), language=data.get("language", ""),
            consent_source=data.get("consent_source", "").strip())
        return Response(CallSerializer(call).data, status=201)


class CallApi(ApiView):
    required_feature = FEATURE

    @extend_schema(operation_id="outbound_calls_get", tags=["outbound calls"], summary="Get an outbound call",
                   responses={200: CallSerializer, **errors()},
                   examples=[OpenApiExample("One", value=CALL, response_only=True)])
    def get(self, request: Request, call_id: int) -> Response:
        return Response(CallSerializer(selectors.call_get(call_id=call_id)).data)


class CallCancelApi(ApiView):
    required_feature = FEATURE

    @extend_schema(operation_id="outbound_calls_cancel", tags=["outbound calls"], summary="Cancel an outbound call",
                   description="Only a call still waiting (`scheduled`) can be cancelled (400 otherwise).",
                   request=None, responses={200: CallSerializer, **errors()},
                   examples=[OpenApiExample("Cancelled", response_only=True, value={**CALL, "status": "cancelled",
                                                                                    "next_attempt_at": None})])
    def post(self, request: Request, call_id: int) -> Response:
        call = services.outbound_cancel(client=request.auth, actor=request.user,
                                        call=selectors.call_get(call_id=call_id))
        return Response(CallSerializer(call).data)


class DncListApi(ListApi):
    serializer_class = DncSerializer
    required_feature = FEATURE

    @extend_schema(operation_id="do_not_call_list", tags=["outbound calls"], summary="The do-not-call list",
                   parameters=LIST_PARAMETERS, responses={200: list_of(DncSerializer), **errors()},
                   examples=_page(DNC))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[DoNotCall]:
        return selectors.dnc_list()

    @extend_schema(operation_id="do_not_call_add", tags=["outbound calls"], summary="Add a number to the list",
                   description="The agent never calls it; its waiting calls are blocked and its consent withdrawn. "
                               "Adding a listed number answers its row again.",
                   request=DncCreateSerializer, responses={201: DncSerializer, **errors()},
                   examples=[OpenApiExample("Add", request_only=True,
                                            value={"phone": DNC["phone"], "reason": DNC["reason"]}),
                             OpenApiExample("Added", value=DNC, response_only=True, status_codes=["201"])])
    def post(self, request: Request) -> Response:
        form = DncCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        row = services.dnc_add(client=request.auth, actor=request.user, phone=form.validated_data["phone"],
                               reason=form.validated_data.get("reason", ""), source=DoNotCall.Source.API)
        return Response(DncSerializer(row).data, status=201)


class DncApi(ApiView):
    required_feature = FEATURE

    @extend_schema(operation_id="do_not_call_remove", tags=["outbound calls"], summary="Take a number off the list",
                   description="The agent may call it again, once a new consent is recorded.",
                   responses={204: None, **errors()})
    def delete(self, request: Request, entry_id: int) -> Response:
        services.dnc_remove(client=request.auth, actor=request.user, entry_id=entry_id)
        return Response(status=204)
