from __future__ import annotations

from celery import shared_task
from django.conf import settings

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
