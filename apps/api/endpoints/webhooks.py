"""Webhook endpoints (the secret is shown once, in the create and rotate answers), their deliveries, the events and
the event-type catalogue. Writes need the plan's `webhooks` feature, as on the Developers page."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.pagination import query_choice
from apps.events import catalogue as event_catalogue
from apps.events import selectors, services
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint

EVENT_TYPES = list(event_catalogue.TYPES)


class EndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text="[] means every type.")
    enabled = serializers.BooleanField()
    disabled_reason = serializers.ChoiceField(choices=WebhookEndpoint.DisabledReason.values,
                                              help_text="Why it is disabled: user, gone, failing; '' when enabled.")
    rate_per_second = serializers.IntegerField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "webhook_endpoint"


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(help_text="`whsec_…`: shown in this answer only. Store it now.")


class EndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000, help_text="A public https address.")
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=event_catalogue.SUBSCRIBABLE),
                                        max_length=len(EVENT_TYPES), required=False,
                                        help_text="Omitted or [] means every type.")
    description = serializers.CharField(max_length=200, allow_blank=True, required=False)
    rate_per_second = serializers.IntegerField(min_value=1, max_value=1000, required=False)


class EndpointUpdateSerializer(EndpointCreateSerializer):
    url = serializers.CharField(max_length=1000, required=False)
    enabled = serializers.BooleanField(required=False)


class EventSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="`msg_…`: the `webhook-id` of its deliveries.")
    object = serializers.SerializerMethodField()
    type = serializers.CharField()
    version = serializers.IntegerField()
    data = serializers.DictField()
    created = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "event"


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    endpoint = serializers.IntegerField(source="endpoint_id")
    event = serializers.CharField(source="event.public_id")
    event_type = serializers.CharField(source="event.type")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.values)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    created = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_object(self, _row: Any) -> str:
        return "webhook_delivery"


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started = serializers.DateTimeField()
    request_url = serializers.CharField()
    response_status = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField()
    latency_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    next_retry_at = serializers.DateTimeField(allow_null=True)


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = serializers.SerializerMethodField()

    def get_attempt_log(self, row: WebhookDelivery) -> list[dict[str, Any]]:
        return AttemptSerializer(selectors.delivery_attempts(delivery=row), many=True).data  # type: ignore[return-value]


class CatalogueEntrySerializer(serializers.Serializer):
    type = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    schema = serializers.DictField(help_text="The JSON schema of the event's `data`.")


ENDPOINT = {"id": 4, "object": "webhook_endpoint", "url": "https://example.com/hooks/vocalia", "description": "CRM",
            "event_types": ["lead.created", "appointment.booked"], "enabled": True, "disabled_reason": "",
            "rate_per_second": 50, "created": "2026-12-01T09:00:00Z", "updated": "2026-12-01T09:00:00Z"}
SECRET = "whsec_MfKQ9r8GKYqrTWc5LN8sDlbQ3P5XnC9d"
EVENT = {"id": "msg_2bZq0Kx8pQe3u8aWJmV1rTn4", "object": "event", "type": "lead.created", "version": 1,
         "data": {"id": 42, "name": "Marie Dupont", "score": 75}, "created": "2026-12-01T09:30:00Z"}
DELIVERY = {"id": 17, "object": "webhook_delivery", "endpoint": 4, "event": EVENT["id"], "event_type": "lead.created",
            "status": "succeeded", "attempts": 1, "next_attempt_at": None, "last_status_code": 200, "last_error": "",
            "created": "2026-12-01T09:30:00Z", "finished_at": "2026-12-01T09:30:01Z"}
ATTEMPT = {"number": 1, "started": "2026-12-01T09:30:00Z", "request_url": ENDPOINT["url"], "response_status": 200,
           "response_excerpt": "ok", "latency_ms": 84, "error": "", "next_retry_at": None}


def _page(one: dict[str, Any]) -> list[OpenApiExample]:
    return [OpenApiExample("A page", response_only=True,
                           value={"object": "list", "data": [one], "has_more": False, "next_cursor": None})]


def _ip(request: Request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class EndpointListApi(ListApi):
    serializer_class = EndpointSerializer

    @extend_schema(operation_id="webhook_endpoints_list", tags=["webhooks"], summary="List webhook endpoints",
                   parameters=LIST_PARAMETERS, responses={200: list_of(EndpointSerializer), **errors()},
                   examples=_page(ENDPOINT))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[WebhookEndpoint]:
        return selectors.endpoints_list()

    @extend_schema(operation_id="webhook_endpoints_create", tags=["webhooks"], summary="Create a webhook endpoint",
                   description="Answers the signing secret (`whsec_…`) once: it is never shown again (rotate it to "
                               "get a new one). 20 endpoints at most; needs the plan's `webhooks` feature.",
                   request=EndpointCreateSerializer, responses={201: EndpointWithSecretSerializer, **errors()},
                   examples=[OpenApiExample("Create", request_only=True, value={
                       "url": ENDPOINT["url"], "event_types": ENDPOINT["event_types"], "description": "CRM"}),
                             OpenApiExample("Created", response_only=True, status_codes=["201"],
                                            value={**ENDPOINT, "secret": SECRET})])
    def post(self, request: Request) -> Response:
        form = EndpointCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        endpoint, secret = services.webhook_endpoint_create(
            client=request.auth, actor=request.user, url=data["url"], event_types=data.get("event_types"),
            description=data.get("description", ""), rate_per_second=data.get("rate_per_second"), ip=_ip(request))
        return Response({**EndpointSerializer(endpoint).data, "secret": secret}, status=201)


class EndpointApi(ApiView):
    @extend_schema(operation_id="webhook_endpoints_get", tags=["webhooks"], summary="Get a webhook endpoint",
                   responses={200: EndpointSerializer, **errors()},
                   examples=[OpenApiExample("One", value=ENDPOINT, response_only=True)])
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(EndpointSerializer(services.endpoint_get(endpoint_id=endpoint_id)).data)

    @extend_schema(operation_id="webhook_endpoints_update", tags=["webhooks"], summary="Update a webhook endpoint",
                   description="Only the fields sent change. `enabled: false` pauses it (deliveries to it fail at "
                               "once); `enabled: true` starts it again.",
                   request=EndpointUpdateSerializer, responses={200: EndpointSerializer, **errors()},
                   examples=[OpenApiExample("Disable", request_only=True, value={"enabled": False}),
                             OpenApiExample("Updated", response_only=True,
                                            value={**ENDPOINT, "enabled": False, "disabled_reason": "user"})])
    def patch(self, request: Request, endpoint_id: int) -> Response:
        form = EndpointUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_change(client=request.auth, actor=request.user, endpoint_id=endpoint_id,
                                                    ip=_ip(request), **form.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(operation_id="webhook_endpoints_delete", tags=["webhooks"], summary="Delete a webhook endpoint",
                   description="Its deliveries and their log go with it.", responses={204: None, **errors()})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        services.webhook_endpoint_delete(client=request.auth, actor=request.user, endpoint_id=endpoint_id,
                                         ip=_ip(request))
        return Response(status=204)


class EndpointRotateApi(ApiView):
    @extend_schema(operation_id="webhook_endpoints_rotate_secret", tags=["webhooks"],
                   summary="Rotate an endpoint's signing secret",
                   description="Answers the new secret once. For 24 h every request carries two signatures, with "
                               "the new and the previous secret, so the receiver can switch without losing events.",
                   request=None, responses={200: EndpointWithSecretSerializer, **errors()},
                   examples=[OpenApiExample("Rotated", response_only=True, value={**ENDPOINT, "secret": SECRET})])
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint, secret = services.webhook_endpoint_rotate(client=request.auth, actor=request.user,
                                                            endpoint_id=endpoint_id, ip=_ip(request))
        return Response({**EndpointSerializer(endpoint).data, "secret": secret})


class DeliveryListApi(ListApi):
    serializer_class = DeliverySerializer

    @extend_schema(operation_id="webhook_deliveries_list", tags=["webhooks"],
                   summary="List an endpoint's deliveries, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=WebhookDelivery.Status.values),
                               OpenApiParameter("type", str, enum=EVENT_TYPES)],
                   responses={200: list_of(DeliverySerializer), **errors()}, examples=_page(DELIVERY))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[WebhookDelivery]:
        endpoint = services.endpoint_get(endpoint_id=kwargs["endpoint_id"])
        params = request.query_params
        return selectors.deliveries_query(endpoint=endpoint,
                                          status=query_choice(params, "status", WebhookDelivery.Status.values),
                                          event_type=query_choice(params, "type", EVENT_TYPES))


class DeliveryApi(ApiView):
    @extend_schema(operation_id="webhook_deliveries_get", tags=["webhooks"], summary="Get a delivery and its attempts",
                   responses={200: DeliveryDetailSerializer, **errors()},
                   examples=[OpenApiExample("One", response_only=True, value={**DELIVERY, "attempt_log": [ATTEMPT]})])
    def get(self, request: Request, delivery_id: int) -> Response:
        return Response(DeliveryDetailSerializer(services.delivery_get(delivery_id=delivery_id)).data)


class DeliveryReplayApi(ApiView):
    @extend_schema(operation_id="webhook_deliveries_replay", tags=["webhooks"], summary="Send a delivery again",
                   description="The same event (same `webhook-id`), at once, with a fresh retry schedule. A delivery "
                               "still pending is left as it is.",
                   request=None, responses={200: DeliverySerializer, **errors()},
                   examples=[OpenApiExample("Replayed", response_only=True, value={
                       **DELIVERY, "status": "pending", "finished_at": None})])
    def post(self, request: Request, delivery_id: int) -> Response:
        delivery = services.delivery_replay(client=request.auth, actor=request.user, delivery_id=delivery_id,
                                            ip=_ip(request))
        return Response(DeliverySerializer(delivery).data)


class EventListApi(ListApi):
    serializer_class = EventSerializer

    @extend_schema(operation_id="events_list", tags=["webhooks"], summary="List events, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("type", str, enum=EVENT_TYPES)],
                   responses={200: list_of(EventSerializer), **errors()}, examples=_page(EVENT))
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Event]:
        return selectors.events_query(event_type=query_choice(request.query_params, "type", EVENT_TYPES))


class EventApi(ApiView):
    @extend_schema(operation_id="events_get", tags=["webhooks"], summary="Get an event",
                   responses={200: EventSerializer, **errors()},
                   examples=[OpenApiExample("One", value=EVENT, response_only=True)])
    def get(self, request: Request, event_id: str) -> Response:
        return Response(EventSerializer(selectors.event_get(public_id=event_id)).data)


class EventTypesApi(ApiView):
    @extend_schema(operation_id="event_types_list", tags=["webhooks"], summary="The event-type catalogue",
                   description="Every type an endpoint can receive, its version and the JSON schema of its `data` "
                               "(the same as the document's `webhooks:`).",
                   responses={200: inline_serializer(name="EventTypeList", fields={
                       "object": serializers.ChoiceField(choices=["list"]),
                       "data": CatalogueEntrySerializer(many=True)}), **errors()},
                   examples=[OpenApiExample("The catalogue", response_only=True, value={"object": "list", "data": [
                       {"type": "ticket.created", "version": 1, "description": "A support ticket was opened.",
                        "schema": {"type": "object", "required": ["id", "subject"],
                                   "properties": {"id": {"type": "integer"}, "subject": {"type": "string"}}}}]})])
    def get(self, request: Request) -> Response:
        return Response({"object": "list", "data": CatalogueEntrySerializer(selectors.catalogue(), many=True).data})
