from __future__ import annotations

from celery import shared_task

from apps.clients.services import client_provision


@shared_task(name="apps.clients.tasks.client_provision_task", ignore_result=True)
def client_provision_task(client_id: int) -> None:
    """Provision in the background; failure is recorded on the client (status `failed` + detail)."""
    client_provision(client_id=client_id)
