from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integrations.test_contracts import SMTP, FakeSMTP


@pytest.fixture
def fake_smtp(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    FakeSMTP.sessions, FakeSMTP.fail_with = [], []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


@pytest.fixture
def smtp_settings() -> dict[str, Any]:
    return dict(SMTP)


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Eager tasks that propagate errors also propagate Celery's Retry instead of re-running the task; without
    propagation, `apply` re-runs it at once (the countdown is skipped), as a worker would after the delay."""
    from vocalia.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before
