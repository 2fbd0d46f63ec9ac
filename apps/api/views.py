"""`/api/v1/me`, the schema and its docs page. The resources are in apps/api/endpoints/."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.utils import OpenApiExample, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.authentication import HasClient
from apps.api.base import ApiView, errors
from apps.api.endpoints.usage import QuotaSerializer
from apps.clients.entitlements import client_quotas


class MeApi(ApiView):
    """The client the key belongs to, its plan and this month's usage. Open to every plan (it tells whether the
    plan has `api_access`)."""

    permission_classes: ClassVar[list[Any]] = [HasClient]

    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        plan = serializers.CharField(source="plan.code")
        features = serializers.ListField(source="plan.features", child=serializers.CharField())
        default_language = serializers.CharField()
        timezone = serializers.CharField()
        currency = serializers.CharField()
        usage = QuotaSerializer(many=True, read_only=True)

    @extend_schema(operation_id="me_get", tags=["account"], summary="The key's client, plan and usage",
                   description="Answers on every plan, with or without `api_access`.",
                   responses={200: OutputSerializer, **errors(400, 401, 403, 405, 406, 429)},
                   examples=[OpenApiExample("Pro plan", response_only=True, value={
                       "slug": "demo", "name": "Cabinet Dentaire Sourire", "plan": "pro",
                       "features": ["voice_widget", "knowledge_base", "api_access"], "default_language": "fr",
                       "timezone": "Europe/Paris", "currency": "EUR",
                       "usage": [{"quota": "monthly_conversations", "used": 37, "limit": 2000, "left": 1963}]})])
    def get(self, request: Request) -> Response:
        client = request.auth
        data = dict(self.OutputSerializer(client).data)
        data["usage"] = [{"quota": q.quota, "used": q.used, "limit": q.limit, "left": q.left}
                         for q in client_quotas(client)]
        return Response(data)


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3.1 document (JSON by default, `?format=yaml`): public, no key needed."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = []
    renderer_classes: ClassVar[list[Any]] = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer,
                                             OpenApiYamlRenderer2]


class DocsPage(SpectacularRedocView):
    """ReDoc over the schema, its script served from our own static files (drf-spectacular-sidecar): no CDN."""

    authentication_classes: ClassVar[list[Any]] = []
    permission_classes: ClassVar[list[Any]] = []
    url_name = "api-schema"
    template_name = "api/docs.html"
