"""Celery: drain one schema's due deliveries (in the schema it was queued from), and the beat's sweeper."""

from __future__ import annotations

from celery import shared_task

from apps.events import outbox, sending


@shared_task(name="apps.events.tasks.webhooks_drain", ignore_result=True, acks_late=True)
def webhooks_drain() -> int:
    """Send this schema's due deliveries while there are some. Safe to run twice, in two workers at once: the
    claims lease each delivery to one of them. A failed try is not retried here: the delivery row holds its
    next time, and the sweeper queues a drain then."""
    return sending.deliveries_drain()


@shared_task(name="apps.events.tasks.webhooks_sweep", ignore_result=True)
def webhooks_sweep() -> int:
    """Queue the deliveries that fell due (retries, lost kicks, tries whose worker died), found through the
    public work index: no walk over every client schema."""
    return outbox.sweep()
