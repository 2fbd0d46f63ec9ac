"""Conversations on every channel, and their messages (read-only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.fields import MAX_ID
from apps.api.pagination import query_choice, query_int
from apps.conversations import selectors
from apps.conversations.models import Conversation, Message


class ConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    agent = serializers.IntegerField(source="agent_id")
    channel = serializers.ChoiceField(choices=Conversation.Channel.values)
    language = serializers.CharField()
    visitor_id = serializers.CharField()
    visitor_name = serializers.CharField()
    visitor_phone = serializers.CharField()
    visitor_email = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Conversation.Outcome.values)
    metadata = serializers.DictField(help_text="Page, UTM parameters, call id… as the channel recorded them.")
    started = serializers.DateTimeField(help_text="The conversation's creation time (created_after/before).")
    last_activity = serializers.DateTimeField()
    ended = serializers.DateTimeField(allow_null=True)

    def get_object(self, _row: Any) -> str:
        return "conversation"


@extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
class AnyJson(serializers.JSONField):
    """A tool's arguments or result: a JSON object or null (drf-spectacular's default, `oneOf: [{}, null]`,
    is invalid for null: null matches both)."""


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    conversation = serializers.IntegerField(source="conversation_id")
    role = serializers.ChoiceField(choices=Message.Role.values)
    text = serializers.CharField()
    tool_name = serializers.CharField()
    tool_args = AnyJson(allow_null=True)
    tool_result = AnyJson(allow_null=True)
    complete = serializers.BooleanField(help_text="False while a reply is still being streamed.")
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "message"


CONVERSATION = {"id": 310, "object": "conversation", "agent": 1, "channel": "widget_text", "language": "fr",
                "visitor_id": "v_8f2c", "visitor_name": "Marie", "visitor_phone": "", "visitor_email": "",
                "outcome": "booked", "metadata": {"page": "https://cabinet.example/rdv"},
                "started": "2026-12-01T09:28:00Z", "last_activity": "2026-12-01T09:31:00Z",
                "ended": "2026-12-01T09:31:10Z"}
MESSAGE = {"id": 9001, "object": "message", "conversation": 310, "role": "user",
           "text": "Je voudrais un rendez-vous jeudi matin.", "tool_name": "", "tool_args": None,
           "tool_result": None, "complete": True, "created": "2026-12-01T09:28:05Z"}


class ConversationListApi(ListApi):
    serializer_class = ConversationSerializer
    created_field = "started"

    @extend_schema(operation_id="conversations_list", tags=["conversations"],
                   summary="List conversations, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("agent", int),
                               OpenApiParameter("channel", str, enum=Conversation.Channel.values),
                               OpenApiParameter("outcome", str, enum=Conversation.Outcome.values)],
                   responses={200: list_of(ConversationSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [CONVERSATION], "has_more": True, "next_cursor": "WyIyMDI2…"})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Conversation]:
        params = request.query_params
        return selectors.conversations_list(
            agent_id=query_int(params, "agent", high=MAX_ID),
            channel=query_choice(params, "channel", Conversation.Channel.values),
            outcome=query_choice(params, "outcome", Conversation.Outcome.values))


class ConversationApi(ApiView):
    @extend_schema(operation_id="conversations_get", tags=["conversations"], summary="Get a conversation",
                   responses={200: ConversationSerializer, **errors()},
                   examples=[OpenApiExample("One", value=CONVERSATION, response_only=True)])
    def get(self, request: Request, conversation_id: int) -> Response:
        return Response(ConversationSerializer(selectors.conversation_get(conversation_id=conversation_id)).data)


class MessageListApi(ListApi):
    serializer_class = MessageSerializer
    newest_first = False

    @extend_schema(operation_id="messages_list", tags=["conversations"],
                   summary="List a conversation's messages, oldest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("role", str, enum=Message.Role.values)],
                   responses={200: list_of(MessageSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [MESSAGE], "has_more": False, "next_cursor": None})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Message]:
        return selectors.messages_list(conversation_id=kwargs["conversation_id"],
                                       role=query_choice(request.query_params, "role", Message.Role.values))
