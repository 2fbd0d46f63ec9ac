"""Usage: this client's monthly counters and plan quotas."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import ApiView, errors
from apps.usage.models import UsageCounter
from apps.usage.selectors import usage_summary


class QuotaSerializer(serializers.Serializer):
    quota = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField()
    left = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    class Month(serializers.Serializer):
        month = serializers.CharField(help_text="YYYY-MM")
        counters = serializers.DictField(child=serializers.IntegerField(),
                                         help_text=", ".join(UsageCounter.Metric.values))

    object = serializers.SerializerMethodField()
    period = serializers.CharField(help_text="The current month, YYYY-MM.")
    months = Month(many=True, help_text="Up to 12 months, newest first (months without usage are left out).")
    quotas = QuotaSerializer(many=True)

    def get_object(self, _row: object) -> str:
        return "usage"


USAGE = {"object": "usage", "period": "2026-12",
         "months": [{"month": "2026-12", "counters": {"conversations": 37, "voice_minutes": 14, "messages": 412,
                                                      "api_requests": 0}}],
         "quotas": [{"quota": "monthly_conversations", "used": 37, "limit": 2000, "left": 1963},
                    {"quota": "voice_minutes", "used": 14, "limit": 300, "left": 286}]}


class UsageApi(ApiView):
    @extend_schema(operation_id="usage_get", tags=["usage"], summary="Monthly usage and quotas",
                   responses={200: UsageSerializer, **errors()},
                   examples=[OpenApiExample("This month", value=USAGE, response_only=True)])
    def get(self, request: Request) -> Response:
        return Response(UsageSerializer(usage_summary(client=request.auth)).data)
