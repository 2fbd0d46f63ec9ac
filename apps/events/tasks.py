"""Celery: one try at one delivery (in the schema it was queued from), and the beat's sweeper."""

from __future__ import annotations

from celery import shared_task

from apps.events import outbox, services


@shared_task(name="apps.events.tasks.webhook_deliver_task", ignore_result=True, acks_late=True)
def webhook_deliver_task(delivery_id: int) -> None:
    """Safe to run twice: the service claims the try with a lease. A failed try is not retried here: the
    delivery row holds its next time, and the sweeper queues it then."""
    services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="apps.events.tasks.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Queue the deliveries that fell due (retries, lost kicks, tries whose worker died), found through the
    public work index: no walk over every client schema."""
    return outbox.sweep()
