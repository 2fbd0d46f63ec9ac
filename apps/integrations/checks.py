"""Start-up checks: `manage.py check`, `migrate`, `runserver` and every Celery worker refuse to start when the
stored credentials would not decrypt."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_init
from django.core.checks import Error, register

from apps.integrations.crypto import canary_problem, canary_verify


@register("security")
def encryption_canary_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    problem = canary_problem()
    return [Error(problem, id="integrations.E001")] if problem else []


@worker_init.connect
def _worker_canary(**kwargs: Any) -> None:
    canary_verify()
