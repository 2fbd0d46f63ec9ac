from __future__ import annotations

from typing import Any

from apps.outbound.models import CallConsent, DoNotCall, OutboundCall


def outbound_page(*, limit: int = 200) -> dict[str, Any]:
    """What the Outbound calls page shows: the calls (newest first), the do-not-call list, the live consents."""
    return {
        "calls": list(OutboundCall.objects.select_related("callback")[:limit]),
        "dnc": list(DoNotCall.objects.all()[:limit]),
        "consents": list(CallConsent.objects.filter(withdrawn_at=None)[:limit]),
    }
