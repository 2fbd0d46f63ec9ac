"""Request bodies of the REST API: JSON through apps/core/inputs (bounded depth and numbers, no NUL, no lone
surrogate, never a 500), and multipart for file uploads."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import BaseParser, MultiPartParser

from apps.core.inputs import object_parse


class SafeJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict[str, Any] | None = None
              ) -> dict[str, Any]:
        return object_parse(stream.read() if stream is not None else b"")


JSON_PARSERS = [SafeJSONParser]
UPLOAD_PARSERS = [SafeJSONParser, MultiPartParser]
