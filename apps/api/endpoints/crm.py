"""Leads, tickets and callbacks (read-only: the agent creates them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.pagination import query_choice, query_int
from apps.crm import selectors
from apps.crm.models import Callback, Lead, Ticket


class LeadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    company = serializers.CharField()
    need = serializers.CharField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    budget_currency = serializers.CharField()
    is_decision_maker = serializers.BooleanField(allow_null=True)
    timeline = serializers.CharField()
    timeline_days = serializers.IntegerField(allow_null=True)
    score = serializers.IntegerField(help_text="BANT score, 0 to 100.")
    breakdown = serializers.DictField(child=serializers.IntegerField())
    status = serializers.ChoiceField(choices=Lead.Status.values)
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "lead"


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    subject = serializers.CharField()
    description = serializers.CharField()
    priority = serializers.ChoiceField(choices=Ticket.Priority.values)
    status = serializers.ChoiceField(choices=Ticket.Status.values)
    contact = serializers.CharField()
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "ticket"


class CallbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    name = serializers.CharField()
    phone = serializers.CharField()
    due_at = serializers.DateTimeField()
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=Callback.Status.values)
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "callback"


LEAD = {"id": 42, "object": "lead", "conversation": 310, "name": "Marie Dupont", "email": "marie@example.com",
        "phone": "+33612345678", "company": "Dupont SARL", "need": "Un site e-commerce pour 200 produits",
        "budget": "5000.00", "budget_currency": "EUR", "is_decision_maker": True, "timeline": "next month",
        "timeline_days": 30, "score": 100, "breakdown": {"budget": 25, "authority": 25, "need": 25, "timeline": 25},
        "status": "new", "created": "2026-12-01T09:30:00Z"}
TICKET = {"id": 7, "object": "ticket", "conversation": 311, "subject": "Facture introuvable",
          "description": "Le client ne trouve pas sa facture de novembre.", "priority": "normal", "status": "open",
          "contact": "paul@example.com", "created": "2026-12-01T10:02:00Z"}
CALLBACK = {"id": 3, "object": "callback", "conversation": 312, "name": "Karim", "phone": "+212612345678",
            "due_at": "2026-12-02T15:00:00Z", "reason": "Devis pour une terrasse", "status": "pending",
            "created": "2026-12-01T11:00:00Z"}


def _examples(one: dict[str, Any]) -> tuple[list[OpenApiExample], list[OpenApiExample]]:
    return ([OpenApiExample("A page", value={"object": "list", "data": [one], "has_more": False,
                                             "next_cursor": None}, response_only=True)],
            [OpenApiExample("One", value=one, response_only=True)])


LEAD_LIST, LEAD_ONE = _examples(LEAD)
TICKET_LIST, TICKET_ONE = _examples(TICKET)
CALLBACK_LIST, CALLBACK_ONE = _examples(CALLBACK)


class LeadListApi(ListApi):
    serializer_class = LeadSerializer

    @extend_schema(operation_id="leads_list", tags=["leads"], summary="List leads, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Lead.Status.values),
                               OpenApiParameter("min_score", int, description="Only leads scoring at least this.")],
                   responses={200: list_of(LeadSerializer), **errors()}, examples=LEAD_LIST)
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Lead]:
        params = request.query_params
        return selectors.leads_list(status=query_choice(params, "status", Lead.Status.values),
                                    min_score=query_int(params, "min_score", low=0, high=100))


class LeadApi(ApiView):
    @extend_schema(operation_id="leads_get", tags=["leads"], summary="Get a lead",
                   responses={200: LeadSerializer, **errors()}, examples=LEAD_ONE)
    def get(self, request: Request, lead_id: int) -> Response:
        return Response(LeadSerializer(selectors.lead_get(lead_id=lead_id)).data)


class TicketListApi(ListApi):
    serializer_class = TicketSerializer

    @extend_schema(operation_id="tickets_list", tags=["tickets"], summary="List tickets, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Ticket.Status.values),
                               OpenApiParameter("priority", str, enum=Ticket.Priority.values)],
                   responses={200: list_of(TicketSerializer), **errors()}, examples=TICKET_LIST)
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Ticket]:
        params = request.query_params
        return selectors.tickets_list(status=query_choice(params, "status", Ticket.Status.values),
                                      priority=query_choice(params, "priority", Ticket.Priority.values))


class TicketApi(ApiView):
    @extend_schema(operation_id="tickets_get", tags=["tickets"], summary="Get a ticket",
                   responses={200: TicketSerializer, **errors()}, examples=TICKET_ONE)
    def get(self, request: Request, ticket_id: int) -> Response:
        return Response(TicketSerializer(selectors.ticket_get(ticket_id=ticket_id)).data)


class CallbackListApi(ListApi):
    serializer_class = CallbackSerializer

    @extend_schema(operation_id="callbacks_list", tags=["callbacks"], summary="List callbacks, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Callback.Status.values)],
                   responses={200: list_of(CallbackSerializer), **errors()}, examples=CALLBACK_LIST)
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Callback]:
        return selectors.callbacks_list(status=query_choice(request.query_params, "status", Callback.Status.values))


class CallbackApi(ApiView):
    @extend_schema(operation_id="callbacks_get", tags=["callbacks"], summary="Get a callback",
                   responses={200: CallbackSerializer, **errors()}, examples=CALLBACK_ONE)
    def get(self, request: Request, callback_id: int) -> Response:
        return Response(CallbackSerializer(selectors.callback_get(callback_id=callback_id)).data)
