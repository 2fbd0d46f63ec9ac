"""Agents: list, get, update (the settings a client's developers may change; provider keys stay in the dashboard)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents import selectors, services
from apps.agents.models import LANGUAGE_CODES, Agent
from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.pagination import query_choice

TEXT_KEYS = ("instructions", "greeting", "closing")


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    name = serializers.CharField()
    sector = serializers.CharField()
    status = serializers.ChoiceField(choices=Agent.Status.values)
    languages = serializers.ListField(child=serializers.CharField())
    default_language = serializers.CharField()
    texts = serializers.DictField(child=serializers.DictField(child=serializers.CharField(allow_blank=True)),
                                  help_text="Per language: instructions, greeting, closing.")
    business = serializers.DictField()
    tools = serializers.ListField(child=serializers.CharField())
    provider = serializers.CharField()
    model = serializers.CharField()
    temperature = serializers.FloatField()
    business_hours = serializers.DictField(help_text='Per weekday (mon…sun): [["09:00", "12:30"], …].')
    appointment_minutes = serializers.IntegerField()
    buffer_minutes = serializers.IntegerField()
    handover_phone = serializers.CharField()
    handover_email = serializers.CharField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "agent"


class AgentUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    status = serializers.ChoiceField(choices=Agent.Status.values, required=False)
    languages = serializers.ListField(child=serializers.ChoiceField(choices=LANGUAGE_CODES), min_length=1,
                                      max_length=len(LANGUAGE_CODES), required=False)
    default_language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False)
    appointment_minutes = serializers.IntegerField(min_value=5, max_value=480, required=False)
    buffer_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)
    handover_phone = serializers.CharField(max_length=32, allow_blank=True, required=False)
    handover_email = serializers.EmailField(allow_blank=True, required=False)
    texts = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField(max_length=4000, allow_blank=True,
                                                                trim_whitespace=False)),
        required=False, help_text="Per language (fr, en, es, ar, ary): instructions, greeting, closing. "
                                  "Merged over the stored texts.")

    def validate_languages(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def validate_texts(self, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for code, texts in value.items():
            if code not in LANGUAGE_CODES:
                raise serializers.ValidationError(_("Unknown language: choose fr, en, es, ar or ary."))
            if set(texts) - set(TEXT_KEYS):
                raise serializers.ValidationError(_("Texts are instructions, greeting and closing."))
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "default_language" in data and "languages" in data and data["default_language"] not in data["languages"]:
            raise serializers.ValidationError({"default_language": _("The default language must be one of the "
                                                                     "agent's languages.")})
        return data


AGENT = {"id": 1, "object": "agent", "name": "Réception", "sector": "dental", "status": "active",
         "languages": ["fr", "ar"], "default_language": "fr",
         "texts": {"fr": {"instructions": "Tu es l'assistant du cabinet.", "greeting": "Bonjour !", "closing": ""}},
         "business": {"business_name": "Cabinet Dentaire Sourire", "phone": "+33123456789"},
         "tools": ["book_appointment", "qualify_lead"], "provider": "builtin", "model": "", "temperature": 0.3,
         "business_hours": {"mon": [["09:00", "12:30"], ["14:00", "18:00"]], "sun": []},
         "appointment_minutes": 30, "buffer_minutes": 10, "handover_phone": "", "handover_email": "",
         "created": "2026-11-02T08:00:00Z", "updated": "2026-12-01T08:00:00Z"}


class AgentListApi(ListApi):
    serializer_class = AgentSerializer

    @extend_schema(operation_id="agents_list", tags=["agents"], summary="List agents, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Agent.Status.values)],
                   responses={200: list_of(AgentSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True,
                                            value={"object": "list", "data": [AGENT], "has_more": False,
                                                   "next_cursor": None})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Agent]:
        return selectors.agents_list(status=query_choice(request.query_params, "status", Agent.Status.values))


class AgentApi(ApiView):
    @extend_schema(operation_id="agents_get", tags=["agents"], summary="Get an agent",
                   responses={200: AgentSerializer, **errors()},
                   examples=[OpenApiExample("One", value=AGENT, response_only=True)])
    def get(self, request: Request, agent_id: int) -> Response:
        return Response(AgentSerializer(selectors.agent_get(agent_id=agent_id)).data)

    @extend_schema(operation_id="agents_update", tags=["agents"], summary="Update an agent",
                   description="Only the fields sent change. `texts` are merged over the stored ones.",
                   request=AgentUpdateSerializer, responses={200: AgentSerializer, **errors()},
                   examples=[OpenApiExample("Pause and change the greeting", request_only=True,
                                            value={"status": "paused", "texts": {"fr": {"greeting": "Bonsoir !"}}}),
                             OpenApiExample("Updated", value=AGENT, response_only=True)])
    def patch(self, request: Request, agent_id: int) -> Response:
        data = AgentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        texts = values.pop("texts", None)
        agent = services.agent_change(client=request.auth, agent_id=agent_id, actor=request.user, values=values,
                                      texts=texts, ip=request.META.get("REMOTE_ADDR"))
        return Response(AgentSerializer(agent).data)
