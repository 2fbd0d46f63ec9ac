"""The client's phone numbers (read-only: agency staff buy, import and assign them in the admin). The number's
agent and answering mode come from the client's own data: an agent deleted since reads as null, the mode is that
agent's phone settings (the default when it has none)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.fields import MAX_ID
from apps.api.pagination import query_int
from apps.calls.models import Mode
from apps.calls.selectors import agent_phone_modes
from apps.telephony.models import PhoneNumber
from apps.telephony.selectors import client_number_get, client_numbers_list


class PhoneNumberSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    number = serializers.CharField(source="e164", help_text="E.164, like +33159000000.")
    label = serializers.CharField(source="friendly_name")
    agent = serializers.SerializerMethodField(help_text="The agent that answers it (null: none, or deleted).")
    mode = serializers.SerializerMethodField(help_text="How the agent answers: relay (ConversationRelay), media "
                                                       "(Media Streams) or gather; null without an agent.")
    voice = serializers.BooleanField()
    sms = serializers.BooleanField()
    whatsapp = serializers.BooleanField()
    status = serializers.ChoiceField(choices=PhoneNumber.Status.choices)
    account = serializers.ChoiceField(source="account_source", choices=PhoneNumber.Source.choices,
                                      help_text="Whose Twilio account holds it: agency, subaccount (the client's "
                                                "subaccount of the agency's), client (the client's own) or twin "
                                                "(a built-in test number).")
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "phone_number"

    def _modes(self) -> dict[int, str]:
        return self.context.get("modes", {})

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_agent(self, number: PhoneNumber) -> int | None:
        return number.agent_id if number.agent_id in self._modes() else None

    @extend_schema_field(serializers.ChoiceField(choices=Mode.choices, allow_null=True))
    def get_mode(self, number: PhoneNumber) -> str | None:
        return self._modes().get(number.agent_id) if number.agent_id is not None else None


def _modes_for(numbers: list[PhoneNumber]) -> dict[int, str]:
    return agent_phone_modes(agent_ids={number.agent_id for number in numbers if number.agent_id is not None})


NUMBER = {"id": 3, "object": "phone_number", "number": "+33159000000", "label": "Cabinet Atlas — accueil",
          "agent": 1, "mode": "relay", "voice": True, "sms": True, "whatsapp": False, "status": "active",
          "account": "agency", "created": "2026-11-20T10:00:00Z"}


class PhoneNumberListApi(ListApi):
    serializer_class = PhoneNumberSerializer

    @extend_schema(operation_id="phone_numbers_list", tags=["phone numbers"],
                   summary="List the client's phone numbers, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("agent", int)],
                   responses={200: list_of(PhoneNumberSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [NUMBER], "has_more": False, "next_cursor": None})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[PhoneNumber]:
        return client_numbers_list(client=request.auth, agent_id=query_int(request.query_params, "agent",
                                                                           high=MAX_ID))

    def render_rows(self, items: list[Any]) -> Any:
        return PhoneNumberSerializer(items, many=True, context={"modes": _modes_for(items)}).data


class PhoneNumberApi(ApiView):
    @extend_schema(operation_id="phone_numbers_get", tags=["phone numbers"], summary="Get a phone number",
                   responses={200: PhoneNumberSerializer, **errors()},
                   examples=[OpenApiExample("One", value=NUMBER, response_only=True)])
    def get(self, request: Request, number_id: int) -> Response:
        number = client_number_get(client=request.auth, number_id=number_id)
        return Response(PhoneNumberSerializer(number, context={"modes": _modes_for([number])}).data)
