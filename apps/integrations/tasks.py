from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import connection

from apps.integrations.models import Delivery
from apps.integrations.services import delivery_send


@shared_task(bind=True, name="apps.integrations.tasks.delivery_send_task", ignore_result=True, max_retries=None)
def delivery_send_task(self: object, delivery_id: int) -> None:
    """Send one delivery (in the schema it was queued from); a transient failure retries with backoff:
    DELIVERY_RETRY_BASE_S, ×2 each time, until DELIVERY_MAX_ATTEMPTS."""
    delivery = delivery_send(delivery_id=delivery_id)
    if delivery.status == Delivery.Status.QUEUED:
        countdown = settings.DELIVERY_RETRY_BASE_S * 2 ** max(delivery.attempts - 1, 0)
        raise self.retry(countdown=countdown)  # type: ignore[attr-defined]


@shared_task(name="apps.integrations.tasks.deliveries_send_task", ignore_result=True)
def deliveries_send_task(delivery_ids: list[int]) -> None:
    """Send a batch of deliveries (a sweep's); one that fails transiently goes on alone, with its backoff."""
    for delivery_id in delivery_ids:
        delivery = delivery_send(delivery_id=delivery_id)
        if delivery.status == Delivery.Status.QUEUED:
            countdown = settings.DELIVERY_RETRY_BASE_S * 2 ** max(delivery.attempts - 1, 0)
            delivery_send_task.apply_async(args=[delivery_id], countdown=countdown,
                                           headers={"_schema_name": connection.schema_name})
