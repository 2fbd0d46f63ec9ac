from __future__ import annotations

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.clients.entitlements import client_quotas


class MeApi(APIView):
    """The client the key belongs to, its plan and this month's usage."""

    class OutputSerializer(serializers.Serializer):
        slug = serializers.CharField()
        name = serializers.CharField()
        plan = serializers.CharField(source="plan.code")
        features = serializers.ListField(source="plan.features", child=serializers.CharField())
        default_language = serializers.CharField()
        timezone = serializers.CharField()
        currency = serializers.CharField()

    def get(self, request: Request) -> Response:
        client = request.auth
        data = dict(self.OutputSerializer(client).data)
        data["usage"] = [{"quota": q.quota, "used": q.used, "limit": q.limit, "left": q.left}
                         for q in client_quotas(client)]
        return Response(data)
