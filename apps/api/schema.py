"""The OpenAPI 3.1 document's finishing touches (a drf-spectacular post-processing hook), and the hook for webhooks.

`schema_finish` (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]):
- documents `Idempotency-Key` on every POST and the `RateLimit-*` / `Retry-After` / `Idempotent-Replayed` headers;
- leaves the schema and docs pages themselves out of the document;
- merges the webhook payloads: `settings.API_WEBHOOK_CATALOGUE` names a callable (dotted path) returning the event
  catalogue, which `webhooks_merge` turns into the document's top-level `webhooks:` (OpenAPI 3.1).

The catalogue a callable returns (apps/events will provide one), event type → entry:

    {"appointment.booked": {"version": 1, "description": "An appointment was booked.",
                            "schema": {<JSON schema of the event's `data`>}}}

Each entry becomes `webhooks["appointment.booked"].post`, whose body is the delivery envelope
`{"id", "type", "version", "timestamp", "data"}` with `data` described by the entry's `schema`; an entry that
gives `payload` instead (a JSON schema of the whole body) is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from apps.api.idempotency import HEADER as IDEMPOTENCY_HEADER

Catalogue = Mapping[str, Mapping[str, Any]]
HIDDEN_PATHS = ("/api/v1/schema", "/api/v1/docs")

RATE_HEADERS = {
    "RateLimit-Limit": "Requests allowed per minute (the plan's).",
    "RateLimit-Remaining": "Requests left in the current minute.",
    "RateLimit-Reset": "Seconds until the budget is whole again.",
}


EXTRA_HEADERS = {
    "Retry-After": "Seconds to wait before retrying.",
    "Idempotent-Replayed": "`true` on an answer replayed for an Idempotency-Key.",
}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def webhooks_merge(schema: dict[str, Any], catalogue: Callable[[], Catalogue]) -> dict[str, Any]:
    """Add `webhooks:` to `schema`, one POST per event type of `catalogue()` (see the module's docstring)."""
    webhooks = schema.setdefault("webhooks", {})
    for event_type, entry in sorted(catalogue().items()):
        payload = entry.get("payload") or {
            "type": "object",
            "required": ["id", "type", "timestamp", "data"],
            "properties": {
                "id": {"type": "string", "description": "The event's id: the same on every retry (`webhook-id`)."},
                "type": {"type": "string", "const": event_type},
                "version": {"type": "integer", "const": int(entry.get("version", 1))},
                "timestamp": {"type": "string", "format": "date-time"},
                "data": entry.get("schema") or {"type": "object"},
            },
        }
        webhooks[event_type] = {"post": {
            "operationId": "webhook_" + event_type.replace(".", "_"),
            "summary": event_type,
            "description": str(entry.get("description", "")),
            "tags": ["webhooks"],
            "parameters": [{"name": name, "in": "header", "required": True, "schema": {"type": "string"},
                            "description": text} for name, text in (
                ("webhook-id", "The event's id (stable across retries): de-duplicate on it."),
                ("webhook-timestamp", "Unix seconds."),
                ("webhook-signature", "Space-separated `v1,<base64 HMAC-SHA256>` (Standard Webhooks)."))],
            "requestBody": {"required": True, "content": {"application/json": {"schema": payload}}},
            "responses": {"2XX": {"description": "Any 2xx within 15 s acknowledges the delivery."}},
        }}
    return schema


def _operations(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(method, operation) for item in schema.get("paths", {}).values()
            for method, operation in item.items() if isinstance(operation, dict) and "responses" in operation]


def schema_finish(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    for path in HIDDEN_PATHS:
        result.get("paths", {}).pop(path, None)
    for method, operation in _operations(result):
        if method == "post":
            operation.setdefault("parameters", []).append({
                "name": IDEMPOTENCY_HEADER, "in": "header", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Any unique string (a UUID): a retry with the same key and the same request gets "
                               "the first answer again for 24 h; with other parameters, 422."})
        for status, response in operation["responses"].items():
            headers = response.setdefault("headers", {})
            for name in RATE_HEADERS:
                headers[name] = _header(name)
            if status in ("409", "429"):
                headers["Retry-After"] = _header("Retry-After")
            if method == "post":
                headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
    result.setdefault("components", {})["headers"] = {
        name: {"description": text, "schema": {"type": "string"}}
        for name, text in {**RATE_HEADERS, **EXTRA_HEADERS}.items()}
    path = getattr(settings, "API_WEBHOOK_CATALOGUE", "")
    if path:
        webhooks_merge(result, import_string(path))
    return result


class SecretKeyScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer sk_…` (registered when this module is imported: apps/api/apps.py)."""

    target_class = "apps.api.authentication.SecretKeyAuthentication"
    name = "secretKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A secret key, `sk_…` (dashboard → API keys)."}
