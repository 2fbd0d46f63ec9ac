"""Appointments: list, get, book, move, cancel — through apps/bookings' services, the agent's own rules."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.fields import MAX_ID, MomentField, id_field
from apps.api.pagination import query_choice, query_int
from apps.bookings import selectors, services
from apps.bookings.models import Appointment


class AppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    reference = serializers.CharField(help_text="What the customer is told (RDV-XXXXXX).")
    agent = serializers.IntegerField(source="agent_id")
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True)
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    customer_name = serializers.CharField()
    customer_phone = serializers.CharField()
    customer_email = serializers.CharField()
    notes = serializers.CharField()
    status = serializers.ChoiceField(choices=Appointment.Status.values)
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "appointment"


class AppointmentCreateSerializer(serializers.Serializer):
    agent = id_field()
    start = MomentField(help_text="With its offset. Must be a free slot in the agent's opening hours, at least "
                                  "30 minutes and at most 90 days ahead.")
    customer_name = serializers.CharField(max_length=120)
    customer_phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class AppointmentMoveSerializer(serializers.Serializer):
    start = MomentField(help_text="The new start, with its offset; same rules as booking.")


APPOINTMENT = {"id": 55, "object": "appointment", "reference": "RDV-K7M2QX", "agent": 1, "conversation": None,
               "start": "2026-12-03T09:00:00Z", "end": "2026-12-03T09:30:00Z",
               "customer_name": "Marie Dupont", "customer_phone": "+33612345678", "customer_email": "",
               "notes": "Détartrage", "status": "booked", "created": "2026-12-01T09:31:00Z"}
ONE = [OpenApiExample("One", value=APPOINTMENT, response_only=True)]


class AppointmentListApi(ListApi):
    serializer_class = AppointmentSerializer

    @extend_schema(operation_id="appointments_list", tags=["appointments"],
                   summary="List appointments, newest booking first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Appointment.Status.values),
                               OpenApiParameter("agent", int)],
                   responses={200: list_of(AppointmentSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [APPOINTMENT], "has_more": False, "next_cursor": None})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Appointment]:
        params = request.query_params
        return selectors.appointments_list(status=query_choice(params, "status", Appointment.Status.values),
                                           agent_id=query_int(params, "agent", high=MAX_ID))

    @extend_schema(operation_id="appointments_create", tags=["appointments"], summary="Book an appointment",
                   description="The same rules as the agent's booking: within opening hours, 30 minutes to 90 days "
                               "ahead, never overlapping another booking (409 if the slot was just taken).",
                   request=AppointmentCreateSerializer, responses={201: AppointmentSerializer, **errors()},
                   examples=[OpenApiExample("Book", request_only=True, value={
                       "agent": 1, "start": "2026-12-03T10:00:00+01:00", "customer_name": "Marie Dupont",
                       "customer_phone": "+33612345678", "notes": "Détartrage"}),
                             OpenApiExample("Booked", value=APPOINTMENT, response_only=True, status_codes=["201"])])
    def post(self, request: Request) -> Response:
        form = AppointmentCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        appointment = services.appointment_create(
            agent_id=data["agent"], start=data["start"], customer_name=data["customer_name"],
            customer_phone=data.get("customer_phone", ""), customer_email=data.get("customer_email", ""),
            notes=data.get("notes", ""))
        return Response(AppointmentSerializer(appointment).data, status=201)


class AppointmentApi(ApiView):
    @extend_schema(operation_id="appointments_get", tags=["appointments"], summary="Get an appointment",
                   responses={200: AppointmentSerializer, **errors()}, examples=ONE)
    def get(self, request: Request, appointment_id: int) -> Response:
        return Response(AppointmentSerializer(selectors.appointment_get(appointment_id=appointment_id)).data)


class AppointmentMoveApi(ApiView):
    @extend_schema(operation_id="appointments_move", tags=["appointments"], summary="Move an appointment",
                   description="Cancels it and books the new time in one transaction (if the new time cannot be "
                               "booked, the old booking stays). Answers the new appointment: a new id and reference.",
                   request=AppointmentMoveSerializer, responses={201: AppointmentSerializer, **errors()},
                   examples=[OpenApiExample("Move", request_only=True, value={"start": "2026-12-04T15:00:00+01:00"}),
                             OpenApiExample("Moved", response_only=True, status_codes=["201"], value={
                                 **APPOINTMENT, "id": 56, "reference": "RDV-P3W8ZT",
                                 "start": "2026-12-04T14:00:00Z", "end": "2026-12-04T14:30:00Z"})])
    def post(self, request: Request, appointment_id: int) -> Response:
        form = AppointmentMoveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        moved = services.appointment_reschedule(appointment_id=appointment_id, start=form.validated_data["start"])
        return Response(AppointmentSerializer(moved).data, status=201)


class AppointmentCancelApi(ApiView):
    @extend_schema(operation_id="appointments_cancel", tags=["appointments"], summary="Cancel an appointment",
                   description="Cancelling a cancelled appointment changes nothing and answers it again.",
                   request=None, responses={200: AppointmentSerializer, **errors()},
                   examples=[OpenApiExample("Cancelled", response_only=True,
                                            value={**APPOINTMENT, "status": "cancelled"})])
    def post(self, request: Request, appointment_id: int) -> Response:
        return Response(AppointmentSerializer(services.appointment_cancel(appointment_id=appointment_id)).data)
