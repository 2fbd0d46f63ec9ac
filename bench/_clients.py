"""Throw-away clients for the benches (created by clone, dropped at the end)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import _setup  # noqa: F401  (Django is set up before the apps are imported)

from apps.clients import provisioning, services
from apps.clients.models import Client, Plan


def _drop(slug: str) -> None:
    client = Client.objects.filter(slug=slug).first()
    if client is not None:
        provisioning.schema_drop(client.schema_name)
        client.delete()


@contextmanager
def bench_client(slug: str, *, plan: str = "telephony", language: str = "fr") -> Iterator[Client]:
    _drop(slug)
    provisioning.template_sync()
    client = services.client_create(name=slug, slug=slug, plan=Plan.objects.get(code=plan),
                                    default_language=language, provision=False)
    client = services.client_provision(client_id=client.pk)
    try:
        yield Client.objects.select_related("plan").get(pk=client.pk)
    finally:
        _drop(slug)
