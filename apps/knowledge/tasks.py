from __future__ import annotations

from celery import shared_task

from apps.knowledge.services import document_ingest


@shared_task(name="apps.knowledge.tasks.document_ingest_task", ignore_result=True)
def document_ingest_task(document_id: int) -> None:
    """Runs in the client's schema (tenant-schemas-celery carries it from the sender)."""
    document_ingest(document_id=document_id)
