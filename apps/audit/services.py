from __future__ import annotations

from typing import Any

from django.db import connection

from apps.audit.models import AuditEvent


def audit_record(*, action: str, actor: Any = None, target: str = "", data: dict[str, Any] | None = None,
                 ip: str | None = None) -> AuditEvent:
    """Append an event to the active client's audit trail. Call inside the client's context."""
    if connection.schema_name == "public":
        raise RuntimeError("audit_record needs a client's schema (use tenant_context).")
    return AuditEvent.objects.create(
        action=action,
        actor_email=getattr(actor, "email", "") or "",
        actor_is_staff=bool(getattr(actor, "is_staff", False)),
        target=target[:200],
        data=data or {},
        ip=ip,
    )
