"""The scheduling side of callbacks (the agent's `schedule_callback` tool): each callback notes its time in the due
index; a beat sweep hands the due ones to the call task plugged in as `settings.CALLBACK_PLACER` (a dotted path to
`place(*, callback_ids: list[int]) -> list[int]`, called inside the client's schema and transaction, returning the
ids it took). The placer must claim each callback (move it out of `pending` in one UPDATE) so a second sweep cannot
place it again; those it leaves pending are tried again next minute. Without a placer nothing is placed (the
outbound-calls work brings one) and the callbacks wait on the Tickets page, as before."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.schedule.services import clients_due, due_claim, due_note

logger = logging.getLogger(__name__)
DUE_KIND = "callbacks"
RETRY = timedelta(minutes=1)


def callback_due_note(callback: Any) -> None:
    """Called by crm.services.callback_schedule in the client's schema."""
    due_note(client_id=connection.tenant.pk, kind=DUE_KIND, at=callback.due_at)


def _placer() -> Any | None:
    path = getattr(settings, "CALLBACK_PLACER", "")
    return import_string(path) if path else None


def callbacks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    from django_tenants.utils import tenant_context

    from apps.crm.models import Callback

    now = now or timezone.now()
    placer = _placer()
    placed = waiting = 0
    for client in clients_due(kind=DUE_KIND, now=now):
        with tenant_context(client), due_claim(client_id=client.pk, kind=DUE_KIND) as claim:
            if claim is None:
                continue
            due = list(Callback.objects.select_for_update(skip_locked=True)
                       .filter(status=Callback.Status.PENDING, due_at__lte=now).values_list("pk", flat=True)[:200])
            taken = list(placer(callback_ids=due)) if (placer is not None and due) else []
            placed += len(taken)
            waiting += len(due) - len(taken)
            later = (Callback.objects.filter(status=Callback.Status.PENDING).exclude(pk__in=due)
                     .order_by("due_at").values_list("due_at", flat=True).first())
            left = [later] if later else []
            if placer is not None and len(taken) < len(due):
                left.append(now + RETRY)
            claim.next_at = min(left) if left else None
    connection.set_schema_to_public()
    if waiting and placer is None:
        logger.info("%s callback(s) due and no CALLBACK_PLACER configured", waiting)
    return {"placed": placed, "waiting": waiting}
