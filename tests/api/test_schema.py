"""The OpenAPI 3.1 document at /api/v1/schema, its docs page with local assets, and the webhooks hook."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client as HttpClient
from drf_spectacular.validation import validate_schema

from apps.api.schema import webhooks_merge

pytestmark = pytest.mark.django_db


def sample_catalogue():
    """Shaped like the events catalogue apps/events provides at merge: type → version, description, data schema."""
    return {
        "appointment.booked": {"version": 1, "description": "An appointment was booked.", "schema": {
            "type": "object", "required": ["appointment"],
            "properties": {"appointment": {"type": "object", "properties": {"id": {"type": "integer"}}}}}},
        "lead.created": {"version": 2, "description": "A lead was created.",
                         "payload": {"type": "object", "properties": {"whole": {"type": "boolean"}}}},
    }


def _schema(**query):
    response = HttpClient().get("/api/v1/schema", query)
    assert response.status_code == 200, response.content
    return response


def _operations(schema):
    return [(path, method, operation) for path, item in schema["paths"].items()
            for method, operation in item.items()]


def test_it_serves_a_valid_openapi_31_document_without_a_key():
    response = _schema()
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = response.json()
    assert schema["openapi"] == "3.1.0"
    validate_schema(schema)
    assert "/api/v1/schema" not in schema["paths"] and "/api/v1/docs" not in schema["paths"]
    assert _schema(format="yaml").content.startswith(b"openapi: 3.1.0")


def test_it_documents_every_route_of_the_urlconf():
    from django.urls import URLPattern, get_resolver

    routes = {"/api/v1/" + re.sub(r"<(?:int|str):(\w+)>", r"{\1}", str(pattern.pattern))
              for pattern in get_resolver("apps.api.urls").url_patterns if isinstance(pattern, URLPattern)}
    routes -= {"/api/v1/schema", "/api/v1/docs"}
    assert set(_schema().json()["paths"]) == routes


def test_every_operation_has_examples_errors_and_headers():
    schema = _schema().json()
    for path, method, operation in _operations(schema):
        label = f"{method.upper()} {path}"
        assert operation.get("summary"), label
        assert operation["security"] == [{"secretKey": []}], label
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, label
        for code in success:
            content = operation["responses"][code].get("content")
            if code == "204":
                continue
            if "application/json" not in content:  # a file (a call's recording): binary, described
                (media,) = content.values()
                assert media["schema"] == {"type": "string", "format": "binary"}, label
                assert operation["responses"][code]["description"], label
                continue
            assert content["application/json"].get("examples"), f"{label} {code} has no example"
        assert {"400", "401", "403", "429"} <= set(operation["responses"]), label
        assert "RateLimit-Remaining" in operation["responses"][success[0]]["headers"], label
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body and method in ("post", "patch") and "properties" in str(body):
            assert body.get("examples"), f"{label} has no request example"
        if method == "post":
            assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), label
    assert schema["components"]["securitySchemes"]["secretKey"]["scheme"] == "bearer"


def test_it_merges_webhook_payloads_from_a_catalogue():
    schema = webhooks_merge({"openapi": "3.1.0", "paths": {}}, sample_catalogue)
    booked = schema["webhooks"]["appointment.booked"]["post"]
    body = booked["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["type"]["const"] == "appointment.booked"
    assert body["properties"]["version"]["const"] == 1
    assert body["properties"]["data"]["required"] == ["appointment"]
    assert {p["name"] for p in booked["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    lead = schema["webhooks"]["lead.created"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert lead == {"type": "object", "properties": {"whole": {"type": "boolean"}}}


def test_the_served_document_includes_the_configured_catalogue(settings):
    settings.API_WEBHOOK_CATALOGUE = ""
    assert "webhooks" not in _schema().json()
    settings.API_WEBHOOK_CATALOGUE = "tests.api.test_schema.sample_catalogue"
    schema = _schema().json()
    assert set(schema["webhooks"]) == {"appointment.booked", "lead.created"}
    validate_schema(schema)


def test_it_serves_the_docs_page_with_local_assets_only():
    response = HttpClient().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "googleapis" not in page and "cdn" not in page.lower()
    script = next(source for source in sources if source.endswith(".js"))
    assert finders.find(script.removeprefix("/static/")), script
    assert "/api/v1/schema" in page


def test_the_served_document_carries_every_event_type_of_the_catalogue():
    from apps.events.catalogue import TYPES

    schema = _schema().json()
    assert set(schema["webhooks"]) == set(TYPES)
    booked = schema["webhooks"]["appointment.booked"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert booked["properties"]["data"] == TYPES["appointment.booked"].schema
    validate_schema(schema)
