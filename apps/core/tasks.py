from __future__ import annotations

from celery import shared_task

from apps.core.health import heartbeat_write


@shared_task(name="apps.core.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Beat sends this every 10 s; a worker running it proves the queue flows end to end."""
    heartbeat_write()
