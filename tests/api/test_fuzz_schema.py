"""Schemathesis over the OpenAPI document, in-process (the WSGI application, no server): for every operation,
generated requests — valid and invalid, from the schema's own examples too — must never get a 5xx, and every
answer must conform to the document (status code declared, content type, body schema, declared headers).

Bounded to run in well under a minute: MAX_EXAMPLES per operation, derandomised (a fixed corpus; run with
SCHEMATHESIS_EXAMPLES=<n> and SCHEMATHESIS_SEED=<n> to explore more). The case count and the time are printed and
written to tests/artifacts/schemathesis.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.clients.models import Plan
from tests.api.conftest import make_world, outbound_allow

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "10"))
SEED = os.environ.get("SCHEMATHESIS_SEED")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
TALLY: dict[str, Any] = {"cases": 0, "statuses": {}, "operations": 0, "seconds": 0.0}


def _document() -> dict[str, Any]:
    """The document /api/v1/schema serves (test_it_fuzzes_the_served_document checks they are the same), generated
    at collection without a request or the database."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf="apps.api.schema_urls").get_schema(request=None, public=True)


def _load() -> Any:
    from vocalia.wsgi import application

    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(_document(), default=str)))
    loaded.app = application  # requests go through the WSGI application in-process, middleware and all
    return loaded


schema = _load()


@pytest.fixture(autouse=True)
def _world(cast: Any) -> Any:
    """A world in client A's schema, and the test's database connection kept open across requests: Django's WSGI
    handler closes "old" connections at each request's start and end, which would drop the test's transaction
    (django.test.Client disconnects the same receiver)."""
    from django.core import signals
    from django.db import close_old_connections

    Plan.objects.filter(code="pro").update(requests_per_minute=1_000_000)  # the fuzzer, not the budget, is tested
    outbound_allow("pro")
    make_world(cast.client_a)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_it_fuzzes_the_served_document(cast: Any) -> None:
    from django.test import Client as HttpClient

    served = HttpClient().get("/api/v1/schema").json()
    assert served == json.loads(json.dumps(_document(), default=str))


@pytest.fixture(scope="module", autouse=True)
def _report() -> Any:
    yield
    if TALLY["operations"]:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "schemathesis.json").write_text(json.dumps(TALLY, indent=1, sort_keys=True))
        print(f"\nschemathesis: {TALLY['cases']} cases over {TALLY['operations']} operations in "
              f"{TALLY['seconds']:.1f} s, statuses {dict(sorted(TALLY['statuses'].items()))}")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=SEED is None, database=None,
          suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
def test_the_api_conforms_to_its_schema_and_never_fails(case: Any, cast: Any) -> None:
    started = time.monotonic()
    response = case.call_and_validate(headers={"Authorization": f"Bearer {cast.sk_a}"}, checks=CHECKS)
    TALLY["seconds"] += time.monotonic() - started
    TALLY["cases"] += 1
    TALLY["statuses"][str(response.status_code)] = TALLY["statuses"].get(str(response.status_code), 0) + 1
    if case.operation.label not in TALLY.setdefault("seen", []):
        TALLY["seen"].append(case.operation.label)
        TALLY["operations"] = len(TALLY["seen"])
