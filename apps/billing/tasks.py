"""Celery: take ids, reload, call one service, safe to retry."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import connection
from django_tenants.utils import tenant_context

from apps.billing import metering, services
from apps.billing.models import BillingAccount
from apps.clients.models import Client
from apps.core.errors import ProviderError


def _client(client_id: int) -> Client:
    return Client.objects.select_related("plan").get(pk=client_id)


@shared_task(bind=True, max_retries=8, default_retry_delay=30)
def meter_send_task(self: Any, client_id: int) -> int:
    client = _client(client_id)
    try:
        with tenant_context(client):
            return metering.meter_send(client=client)
    except ProviderError as error:
        raise self.retry(exc=error, countdown=30 * 2 ** self.request.retries) from None


@shared_task
def meter_sweep() -> int:
    """Every few minutes: resend what a crash or an outage left pending, one client with a customer at a time."""
    sent = 0
    ids = BillingAccount.objects.exclude(stripe_customer_id="").values_list("client_id", flat=True)
    for client in Client.objects.filter(pk__in=list(ids), status=Client.Status.ACTIVE).select_related("plan"):
        try:
            with tenant_context(client):
                sent += metering.meter_send(client=client)
        except ProviderError:
            continue
    connection.set_schema_to_public()
    return sent


@shared_task
def wallet_recharge_task(client_id: int) -> bool:
    return services.wallet_recharge(client=_client(client_id)) is not None


@shared_task
def grace_sweep() -> int:
    return services.grace_sweep()


@shared_task
def invoices_offline_sweep() -> int:
    return services.invoices_offline_sweep()
