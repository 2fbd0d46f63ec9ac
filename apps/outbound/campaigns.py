"""Campaigns of calls: the outbound side of `apps.messaging.campaigns` (one Campaign concept, channel "call").

    campaign_call_plan(campaign=…, recipient=…)   # one contact → one OutboundCall (scheduled, or blocked)
    campaign_calls_claimable(due=…, now=…)       # the sweep's share of due campaign calls: paused ones wait,
                                                  # at most `concurrency` at once and never more than free lines
    recipient_follow(call=…)                      # the contact's result follows its call (post_save)

A campaign call is an ordinary OutboundCall (purpose "campaign") linked to its contact: the same rules (do-not-call,
recorded consent, calling hours in the client's zone) checked when it is planned AND again just before it is dialled,
the same answering-machine detection (a message left on a machine), the same answer endpoint and consumer (the agent
opens by saying why it calls). What differs: the campaign's own tries and back-off (`retry_minutes` × 2ⁿ), a cap on
simultaneous calls, and pause / resume. Call inside the client's schema."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.outbound.models import OutboundCall

STALE = timedelta(hours=2)  # a call "in progress" this long without news no longer holds a campaign's place
ACTIVE = (OutboundCall.Status.DIALING, OutboundCall.Status.ANSWERED)
POLL = timedelta(seconds=30)  # calls waiting for a free place: look again at the next sweep


def campaign_call_plan(*, campaign: Any, recipient: Any, now: datetime) -> OutboundCall:
    """Record the call to one contact of a running campaign: scheduled within the calling hours, or `blocked`
    (do-not-call list, no recorded consent, no number to call from) — the contact's result says which."""
    from apps.outbound import services

    client = connection.tenant
    phone = recipient.address
    refusal = ""
    if services.dnc_listed(phone):
        refusal = _("This number is on the do-not-call list.")
    elif services.consent_live(phone) is None:
        refusal = _("This person has not agreed to be called by an AI voice: record their consent first.")
    elif not services._from_number(client):
        refusal = _("This client has no phone number to call from.")
    call = OutboundCall(purpose=OutboundCall.Purpose.CAMPAIGN, to=phone, name=recipient.name[:120],
                        reason=campaign.body, language=(recipient.language or client.default_language)[:8],
                        campaign_recipient=recipient, requested_by=f"campaign:{campaign.pk}")
    if refusal:
        call.status, call.detail = OutboundCall.Status.BLOCKED, refusal[:200]
        services._log(call, "blocked", refusal)
    else:
        when = services.window_next(max(campaign.start_at, now), services.policy(), services._zone())
        services._schedule(call, when)
        services._log(call, "scheduled", when.isoformat())
    call.save()
    return call


def lines_free(*, client: Any, now: datetime) -> int:
    """The client's lines not taken: its plan's simultaneous calls, less the answered calls holding a slot
    (inbound and outbound alike) and the calls we are dialling (they take one when answered)."""
    from apps.telephony.slots import slots_used

    dialing = OutboundCall.objects.filter(status=OutboundCall.Status.DIALING, updated__gte=now - STALE).count()
    return client.plan.concurrent_calls - slots_used(client_id=client.pk) - dialing


def campaign_calls_claimable(*, due: Any, now: datetime) -> tuple[list[int], bool]:
    """Of the due campaign calls (`due`, a queryset of scheduled calls due now), the ids the sweep may claim: none
    of a paused (or stopped) campaign; per running campaign, at most its `concurrency` less its calls in progress;
    in all, no more than the client's free lines. Also says whether some due calls were left waiting for a place."""
    from apps.messaging.models import Campaign

    campaign_due = due.filter(campaign_recipient__isnull=False,
                              campaign_recipient__campaign__status=Campaign.Status.RUNNING)
    per_campaign = dict(campaign_due.values_list("campaign_recipient__campaign").annotate(n=Count("id"))
                        .values_list("campaign_recipient__campaign", "n"))
    if not per_campaign:
        return [], False
    busy = dict(OutboundCall.objects.filter(status__in=ACTIVE, updated__gte=now - STALE,
                                            campaign_recipient__campaign__in=list(per_campaign))
                .values_list("campaign_recipient__campaign").annotate(n=Count("id"))
                .values_list("campaign_recipient__campaign", "n"))
    lines = lines_free(client=connection.tenant, now=now)
    claimable: list[int] = []
    waiting = False
    for campaign in Campaign.objects.filter(pk__in=list(per_campaign)).order_by("pk"):
        room = max(0, min(campaign.concurrency - busy.get(campaign.pk, 0), lines - len(claimable)))
        ids = list(campaign_due.filter(campaign_recipient__campaign=campaign).order_by("next_attempt_at", "pk")
                   .values_list("pk", flat=True)[:room])
        claimable.extend(ids)
        waiting = waiting or len(ids) < per_campaign[campaign.pk]
    return claimable, waiting


def next_due(*, now: datetime, waiting: bool) -> datetime | None:
    """When the sweep should enter this client again: the first scheduled call that may be dialled (calls of a
    paused campaign wait for its resume, which notes the client due), or soon if calls wait for a free place."""
    from apps.messaging.models import Campaign

    first = (OutboundCall.objects.filter(status=OutboundCall.Status.SCHEDULED)
             .filter(Q(campaign_recipient__isnull=True)
                     | Q(campaign_recipient__campaign__status=Campaign.Status.RUNNING))
             .aggregate(at=Min("next_attempt_at"))["at"])
    if waiting:
        return min(first, now + POLL) if first is not None else now + POLL
    return first


def retry_limits(call: OutboundCall, *, attempts_default: int, minutes_default: int) -> tuple[int, int]:
    """(tries, minutes to wait) for this call's next try: the campaign's, doubling each time, or the policy's."""
    recipient = call.campaign_recipient if call.campaign_recipient_id else None
    if recipient is None:
        return attempts_default, minutes_default
    campaign = recipient.campaign
    return campaign.max_attempts, campaign.retry_minutes * 2 ** max(call.attempts - 1, 0)


def recipient_status(call: OutboundCall) -> str:
    from apps.messaging.models import CampaignRecipient as R

    S = OutboundCall.Status
    if call.status in (S.SCHEDULED, S.DIALING):
        return R.Status.CALLING
    if call.status in (S.ANSWERED, S.DONE):
        return R.Status.ANSWERED
    if call.status == S.FAILED:
        left = any(step.get("status") == "voicemail" for step in call.history if isinstance(step, dict))
        return R.Status.VOICEMAIL if left else R.Status.NO_ANSWER
    if call.status == S.BLOCKED:
        return R.Status.REFUSED
    return R.Status.FAILED  # cancelled by a member, voicemail (not a final state)


def recipient_follow(*, call: OutboundCall) -> None:
    """The contact's status, tries and last detail follow its call; a campaign whose contacts are all settled is
    done."""
    from apps.messaging.campaigns import campaign_maybe_done
    from apps.messaging.models import CampaignRecipient

    if not call.campaign_recipient_id:
        return
    status = recipient_status(call)
    CampaignRecipient.objects.filter(pk=call.campaign_recipient_id).update(
        status=status, attempts=call.attempts, last_error=(call.detail or "")[:500], updated=timezone.now())
    if status != CampaignRecipient.Status.CALLING:
        recipient = CampaignRecipient.objects.select_related("campaign").filter(pk=call.campaign_recipient_id).first()
        if recipient is not None:
            campaign_maybe_done(recipient.campaign)


def calls_blocked_follow(*, phone: str) -> None:
    """A number put on the do-not-call list blocked its waiting calls in one UPDATE: their contacts follow."""
    for call in OutboundCall.objects.filter(to=phone, status=OutboundCall.Status.BLOCKED,
                                            campaign_recipient__isnull=False):
        recipient_follow(call=call)


def campaign_call_check(*, campaign: Any) -> dict[str, int]:
    """Before (and while) a call campaign runs: how many of its waiting contacts will be refused — numbers on the
    do-not-call list, people with no recorded consent."""
    from apps.messaging.models import CampaignRecipient
    from apps.outbound.models import CallConsent, DoNotCall

    waiting = CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.PENDING)
    listed = waiting.filter(address__in=DoNotCall.objects.values("phone"))
    no_consent = waiting.exclude(address__in=DoNotCall.objects.values("phone")).exclude(
        address__in=CallConsent.objects.filter(withdrawn_at=None).values("phone"))
    return {"listed": listed.count(), "no_consent": no_consent.count()}
