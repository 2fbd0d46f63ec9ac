"""Overage to the billing provider: the ledger rows with overage not yet sent, in batches, the ledger key as
the meter event's `identifier` (Stripe de-duplicates on it: a resend never double-bills).

A row is marked sent only after the provider accepted it, so a worker killed between the ledger write and the
send (or during it) leaves the row pending and the next sweep sends it again. Rows are claimed with
`SELECT … FOR UPDATE SKIP LOCKED`, so two workers never send the same batch at once."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.billing.usage import account_for
from apps.core.errors import ProviderError
from apps.integrations.billing.base import MeterEvent
from apps.integrations.resolver import provider_for
from apps.usage.models import UsageRecord

logger = logging.getLogger(__name__)


def meter_send(*, client: Any, batch: int | None = None, max_batches: int = 100, provider: Any = None) -> int:
    """Send this client's pending overage (inside its schema). Returns how many events were accepted."""
    account = account_for(client)
    if not account.stripe_customer_id and provider is None:
        return 0
    provider = provider or provider_for("billing", client=client).provider
    size = batch or settings.BILLING_METER_BATCH
    sent = 0
    for _round in range(max_batches):
        failure: ProviderError | None = None
        with transaction.atomic():
            rows = list(UsageRecord.objects.select_for_update(skip_locked=True)
                        .filter(metered_at__isnull=True, overage_micros__gt=0).order_by("occurred")[:size])
            if not rows:
                break
            events = [MeterEvent(identifier=row.key, customer=account.stripe_customer_id, value=row.overage_micros,
                                 timestamp=int(row.occurred.timestamp())) for row in rows]
            try:
                accepted = set(provider.meter_events_send(events))
            except ProviderError as error:
                failure, accepted = error, set(getattr(provider, "accepted", ()) or ())
            done = [row.pk for row in rows if row.key in accepted]
            UsageRecord.objects.filter(pk__in=done).update(metered_at=timezone.now(), meter_error="")
            if failure is not None:
                UsageRecord.objects.filter(pk__in=[row.pk for row in rows if row.pk not in done]).update(
                    meter_attempts=F("meter_attempts") + 1, meter_error=failure.message[:300])
            sent += len(done)
        if failure is not None:
            logger.warning("meter events for client %s not sent: %s", client.pk, failure.message)
            if failure.permanent:
                break
            raise failure
        if len(rows) < size:
            break
    return sent
