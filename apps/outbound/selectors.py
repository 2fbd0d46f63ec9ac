from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.outbound.models import CallConsent, DoNotCall, OutboundCall


def outbound_page(*, limit: int = 200) -> dict[str, Any]:
    """What the Outbound calls page shows: the calls (newest first; a campaign's are on its own page, where it is
    paused), the do-not-call list, the live consents."""
    return {
        "calls": list(OutboundCall.objects.select_related("callback")
                      .exclude(purpose=OutboundCall.Purpose.CAMPAIGN)[:limit]),
        "dnc": list(DoNotCall.objects.all()[:limit]),
        "consents": list(CallConsent.objects.filter(withdrawn_at=None)[:limit]),
    }


def calls_list(*, status: str = "", purpose: str = "") -> QuerySet[OutboundCall]:
    found = OutboundCall.objects.select_related("callback")
    if status:
        found = found.filter(status=status)
    return found.filter(purpose=purpose) if purpose else found


def call_get(*, call_id: Any) -> OutboundCall:
    """The call of the current client's schema; NotFound for anything else (another schema's id, junk)."""
    try:
        pk = int(str(call_id))
    except ValueError:
        raise NotFound() from None
    found = OutboundCall.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if found is None:
        raise NotFound()
    return found


def dnc_list() -> QuerySet[DoNotCall]:
    return DoNotCall.objects.all()
