from __future__ import annotations

from django.db.models import QuerySet

from apps.audit.models import AuditEvent


def audit_recent(*, limit: int = 20) -> QuerySet[AuditEvent]:
    """The active client's latest events (call inside the client's context)."""
    return AuditEvent.objects.all()[:limit]
