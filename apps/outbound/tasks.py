"""Celery: the beat sweep that finds due outbound calls, and placing one."""

from __future__ import annotations

from celery import shared_task

from apps.outbound.services import outbound_dial, outbound_sweep


@shared_task(name="apps.outbound.tasks.outbound_sweep_task", ignore_result=True)
def outbound_sweep_task() -> None:
    """Beat, every 30 s: claim the due calls of the clients that have some, queue one dial each."""
    outbound_sweep()


@shared_task(name="apps.outbound.tasks.outbound_dial_task", ignore_result=True)
def outbound_dial_task(call_id: int) -> None:
    """Place one claimed call (in the schema it was queued from)."""
    outbound_dial(call_id=call_id)
