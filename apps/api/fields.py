"""Serializer fields the REST API's inputs share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.dates import MAX_YEAR, MIN_YEAR

MAX_ID = 2**31 - 1


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentField(serializers.Field):
    """An ISO 8601 date-time that carries its offset (`2026-12-03T10:00:00+01:00`, `…Z`), years MIN_YEAR–MAX_YEAR."""

    default_error_messages = {
        "invalid": _("Enter an ISO 8601 date-time with its time zone offset, e.g. 2026-12-03T10:00:00+01:00."),
        "range": _("The date is out of range (years %(min)d to %(max)d)."),
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        try:
            moment = parse_datetime(data.strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.fail("invalid")
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            self.fail("range", min=MIN_YEAR, max=MAX_YEAR)
        return moment

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)
