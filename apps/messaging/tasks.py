"""Celery: the beat sweeps (notices, campaigns) and the agent's answer to an SMS / WhatsApp message."""

from __future__ import annotations

from celery import shared_task

from apps.messaging.campaigns import campaigns_sweep
from apps.messaging.inbound import conversation_answer
from apps.messaging.notices import notices_sweep


@shared_task(name="apps.messaging.tasks.notices_sweep_task", ignore_result=True)
def notices_sweep_task() -> None:
    """Beat, every minute: queue the reminders that are due (idempotent; two beats are harmless)."""
    notices_sweep()


@shared_task(name="apps.messaging.tasks.campaigns_sweep_task", ignore_result=True)
def campaigns_sweep_task() -> None:
    """Beat, every minute: the next batch of each running campaign, and its retries."""
    campaigns_sweep()


@shared_task(name="apps.messaging.tasks.conversation_answer_task", ignore_result=True)
def conversation_answer_task(conversation_id: int, text: str) -> None:
    """The agent answers one SMS / WhatsApp message (in the schema it was queued from)."""
    conversation_answer(conversation_id=conversation_id, text=text)


@shared_task(name="apps.messaging.tasks.callbacks_sweep_task", ignore_result=True)
def callbacks_sweep_task() -> None:
    """Beat, every minute: due callbacks to the plugged-in call task (settings.CALLBACK_PLACER)."""
    from apps.schedule.callbacks import callbacks_sweep

    callbacks_sweep()
