"""docs/webhooks.md's Python snippet, run as published against a real delivery to a local receiver."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.events import services

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def python_snippet() -> str:
    section = DOC.read_text().split("## Verifying a signature", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_snippet_is_five_lines():
    assert len([line for line in python_snippet().splitlines() if line.strip()]) <= 5


@pytest.mark.django_db
def test_the_published_python_snippet_verifies_a_real_delivery(cast, receiver, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        endpoint, secret = services.webhook_endpoint_create(client=cast.client_a, actor=cast.alice,
                                                            url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            services.webhook_endpoint_test(client=cast.client_a, actor=cast.alice, endpoint_id=endpoint.pk)
    [request] = receiver.requests
    code = python_snippet().replace('"whsec_…"', repr(secret))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {"body": request.body, "headers": request.headers})  # noqa: S102 - the published snippet
    assert printed.getvalue().startswith("webhook.test {")
    forged = request.body.replace(b"test", b"tset")
    with pytest.raises(Exception, match="No matching signature"):
        exec(code, {"body": forged, "headers": request.headers})  # noqa: S102
