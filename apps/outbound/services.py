"""Outbound calls: the agent's callbacks and a member's calls, placed by Celery at their time, within the rules.

    outbound_call_request(client=…, to=…, reason=…)   # checks the rules, records the intent, notes it as due
    outbound_sweep()                                   # beat: the due calls of the clients with some (one query)
    outbound_dial(call_id=…)                           # task: re-checks the rules, places it through the provider
    outbound_answered(call=…, answered_by=…)           # Twilio's answer request: a person, or a voicemail
    outbound_status(call=…, status=…)                  # Twilio's status callback: done, or try again later

The rules, checked when the call is asked for AND again just before it is placed (a number can be put on the
do-not-call list, or the consent withdrawn, while the call waits):
- never a number on the client's do-not-call list;
- never without a recorded prior consent to be called by an AI voice (a person who asks the agent for a
  callback gives it, and the conversation is kept as its source);
- only within the client's calling hours, in the client's time zone (outside them the call waits for the next
  window — DST-correct, computed on wall-clock times);
- a limited number of attempts, spaced (busy, no answer, a voicemail).

Twilio's answering-machine detection (`MachineDetection=DetectMessageEnd`) tells a person from a machine in the
answer request: a machine gets a short message in the person's language (if the policy says so) and the call is
tried again later; a person is handed to the agent, which is told why it calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core import signing
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.clients.entitlements import client_may, client_require
from apps.clients.services import manager_require
from apps.core.errors import InvalidInput, NotFound, ProviderError
from apps.core.phones import client_phone_e164
from apps.outbound.models import CallConsent, CallingPolicy, DoNotCall, OutboundCall
from apps.schedule.services import clients_due, due_claim, due_note
from apps.telephony.selectors import client_numbers, number_route

logger = logging.getLogger(__name__)

DUE_KIND = "outbound"
FEATURE = "outbound_calls"
TOKEN_SALT = "vocalia.outbound.call"
TOKEN_MAX_AGE_S = 2 * 24 * 3600
SWEEP_LIMIT = 200
MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
RETRY_STATUSES = {"busy", "no-answer", "failed", "canceled"}
MAX_REASON = 2000


def policy() -> CallingPolicy:
    row = CallingPolicy.objects.order_by("pk").first()
    return row if row is not None else CallingPolicy.objects.create()


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(connection.tenant.timezone)
    except (AttributeError, ValueError, KeyError):
        return ZoneInfo("UTC")


def window_next(moment: datetime, rules: CallingPolicy, zone: ZoneInfo) -> datetime:
    """The earliest instant at or after `moment` inside the calling hours (wall-clock, in the client's zone)."""
    days = rules.days()
    if not days or rules.start >= rules.end:
        raise InvalidInput(_("The calling hours are empty: set a start before the end and at least one day."))
    local = moment.astimezone(zone)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() not in days:
            continue
        opens = datetime.combine(day, rules.start, tzinfo=zone)
        closes = datetime.combine(day, rules.end, tzinfo=zone)
        if offset == 0 and local >= closes:
            continue
        return max(opens, local).astimezone(UTC) if offset == 0 else opens.astimezone(UTC)
    raise InvalidInput(_("The calling hours are empty: set a start before the end and at least one day."))


def phone_require(value: Any) -> str:
    phone = client_phone_e164(str(value or ""))
    if not phone:
        raise InvalidInput(_("Give the number in international format, like +33612345678."))
    return phone


def dnc_listed(phone: str) -> bool:
    return DoNotCall.objects.filter(phone=phone).exists()


def consent_live(phone: str) -> CallConsent | None:
    return CallConsent.objects.filter(phone=phone, withdrawn_at=None).first()


def consent_record(*, phone: str, source: str, conversation: Any = None) -> CallConsent:
    phone = phone_require(phone)
    current = consent_live(phone)
    if current is not None:
        return current
    return CallConsent.objects.create(phone=phone, source=source.strip()[:200] or _("Not said"),
                                      conversation=conversation)


def dnc_add(*, client: Any, actor: Any, phone: Any, reason: str = "",
            source: str = DoNotCall.Source.MEMBER) -> DoNotCall:
    """Any member may add a number (stopping calls is never refused); the waiting calls to it are cancelled."""
    phone = phone_require(phone)
    with transaction.atomic():
        row, _created = DoNotCall.objects.get_or_create(phone=phone, defaults={"reason": reason.strip()[:200],
                                                                               "source": source})
        CallConsent.objects.filter(phone=phone, withdrawn_at=None).update(withdrawn_at=timezone.now())
        OutboundCall.objects.filter(to=phone, status=OutboundCall.Status.SCHEDULED).update(
            status=OutboundCall.Status.BLOCKED, detail=_("On the do-not-call list."), next_attempt_at=None)
        from apps.outbound.campaigns import calls_blocked_follow

        calls_blocked_follow(phone=phone)
        audit_record(action="outbound.dnc_added", actor=actor, target=phone, data={"reason": row.reason})
    return row


def dnc_remove(*, client: Any, actor: Any, phone: Any = None, entry_id: Any = None) -> None:
    """Owners and admins only: taking a number off the list lets the agent call it again (with a new consent).
    The number is given as itself, or as its row's id (`entry_id`, the REST API's)."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    if entry_id is not None:
        pk = int(entry_id) if str(entry_id).isascii() and str(entry_id).isdigit() else 0
        row = DoNotCall.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
        if row is None:
            raise NotFound(_("This number is not on the do-not-call list."))
        phone = row.phone
    phone = phone_require(phone)
    with transaction.atomic():
        if not DoNotCall.objects.filter(phone=phone).delete()[0]:
            raise NotFound(_("This number is not on the do-not-call list."))
        audit_record(action="outbound.dnc_removed", actor=actor, target=phone)


def policy_update(*, client: Any, actor: Any, values: dict[str, Any]) -> CallingPolicy:
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    row = policy()
    if "weekdays" in values and not values["weekdays"]:
        raise InvalidInput(_("The calling hours are empty: set a start before the end and at least one day."))
    for field in ("start", "end", "weekdays", "max_attempts", "retry_minutes", "voicemail", "callbacks_auto"):
        if field in values:
            setattr(row, field, values[field])
    window_next(timezone.now(), row, _zone())  # refuses empty hours before anything is written
    with transaction.atomic():
        row.save()
        audit_record(action="outbound.policy_updated", actor=actor, target="calling hours",
                     data={"start": str(row.start), "end": str(row.end), "days": row.days()})
    return row


def _from_number(client: Any) -> str:
    numbers = [n for n in client_numbers(client=client) if n.voice and n.status == "active"]
    return numbers[0].e164 if numbers else ""


def _log(call: OutboundCall, status: str, detail: str = "") -> None:
    call.history = [*call.history[-19:], {"at": timezone.now().isoformat(), "status": status, "detail": detail}]


def _schedule(call: OutboundCall, at: datetime) -> None:
    call.status = OutboundCall.Status.SCHEDULED
    call.next_attempt_at = at
    due_note(client_id=connection.tenant.pk, kind=DUE_KIND, at=at)


def outbound_call_request(*, client: Any, to: Any, reason: str, purpose: str = OutboundCall.Purpose.MANUAL,
                          name: str = "", language: str = "", agent: Any = None, callback: Any = None,
                          not_before: datetime | None = None, consent_source: str = "", conversation: Any = None,
                          actor: Any = None) -> OutboundCall:
    """Record a call to place at the first allowed moment from `not_before` (now by default). A member's request
    that breaks a rule is refused (InvalidInput); the agent's callback is kept, marked `blocked`, so the team
    sees it and calls by hand."""
    client_require(client, FEATURE)
    phone = phone_require(to)
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise InvalidInput(_("Say why the agent calls: it tells the person."))
    if not_before is not None and timezone.is_naive(not_before):
        raise InvalidInput(_("The time must carry its time zone."))
    manual = purpose == OutboundCall.Purpose.MANUAL
    rules = policy()
    with transaction.atomic():
        if consent_source and not dnc_listed(phone):
            consent_record(phone=phone, source=consent_source, conversation=conversation)
        refusal = ""
        if dnc_listed(phone):
            refusal = _("This number is on the do-not-call list.")
        elif consent_live(phone) is None:
            refusal = _("This person has not agreed to be called by an AI voice: record their consent first.")
        elif not _from_number(client):
            refusal = _("This client has no phone number to call from.")
        if refusal and manual:
            raise InvalidInput(refusal)
        call = OutboundCall(purpose=purpose, to=phone, name=name.strip()[:120], reason=reason,
                            language=(language or client.default_language)[:8], agent=agent, callback=callback,
                            requested_by=getattr(actor, "email", "") or "")
        if refusal:
            call.status, call.detail = OutboundCall.Status.BLOCKED, refusal[:200]
            _log(call, "blocked", refusal)
            call.save()
        else:
            when = window_next(max(not_before or timezone.now(), timezone.now()), rules, _zone())
            _schedule(call, when)
            _log(call, "scheduled", when.isoformat())
            call.save()
        if actor is not None:
            audit_record(action="outbound.call_requested", actor=actor, target=phone,
                         data={"call": call.pk, "status": call.status})
    return call


def callback_call_plan(*, callback: Any) -> OutboundCall | None:
    """The agent promised a callback: place it at its time if the client's plan and policy say so. The person
    asked to be called back, in a conversation: that is their consent, kept with the conversation as source."""
    client = connection.tenant
    if not client_may(client, FEATURE) or not policy().callbacks_auto or not client_phone_e164(callback.phone):
        return None
    source = (_("Asked for a callback in conversation #%(id)s") % {"id": callback.conversation_id}
              if callback.conversation_id else _("Asked for a callback"))
    conversation = callback.conversation
    return outbound_call_request(
        client=client, to=callback.phone, reason=callback.reason or _("A callback the person asked for."),
        purpose=OutboundCall.Purpose.CALLBACK, name=callback.name,
        language=getattr(conversation, "language", "") or "", agent=getattr(conversation, "agent", None),
        callback=callback, not_before=callback.due_at, consent_source=source, conversation=conversation)


def outbound_cancel(*, client: Any, actor: Any, call: OutboundCall) -> OutboundCall:
    with transaction.atomic():
        updated = OutboundCall.objects.filter(pk=call.pk, status=OutboundCall.Status.SCHEDULED).update(
            status=OutboundCall.Status.CANCELLED, next_attempt_at=None, detail=_("Cancelled by a member."))
        if not updated:
            raise InvalidInput(_("Only a call that is still waiting can be cancelled."))
        audit_record(action="outbound.call_cancelled", actor=actor, target=call.to, data={"call": call.pk})
        call.refresh_from_db()
        from apps.outbound.campaigns import recipient_follow

        recipient_follow(call=call)
    return call


# -- Placing ------------------------------------------------------------------------------------------------------

def call_token(call: OutboundCall) -> str:
    """Signed (schema, call): Twilio brings it back on the answer and status requests, which say nothing else of
    which client's call it is; a token of another client's schema never opens this one."""
    return signing.dumps({"s": connection.schema_name, "c": call.pk}, salt=TOKEN_SALT, compress=True)


def token_read(token: str) -> tuple[str, int]:
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_S)
        return str(data["s"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(_("Unknown call.")) from None


def _due_claim_batch(now: datetime) -> tuple[list[int], datetime | None]:
    """Move the due calls of this schema from `scheduled` to `dialing` in one UPDATE (the claim), and say when the
    next one is due."""
    from apps.outbound.campaigns import campaign_calls_claimable, next_due

    due = OutboundCall.objects.filter(status=OutboundCall.Status.SCHEDULED, next_attempt_at__lte=now)
    ids = list(due.filter(campaign_recipient__isnull=True).order_by("next_attempt_at")
               .values_list("pk", flat=True)[:SWEEP_LIMIT])
    campaign_ids, waiting = campaign_calls_claimable(due=due, now=now)  # paused: none; capped: a few
    ids += campaign_ids[:max(0, SWEEP_LIMIT - len(ids))]
    claimed = []
    if ids:
        claimed = list(OutboundCall.objects.filter(pk__in=ids, status=OutboundCall.Status.SCHEDULED)
                       .values_list("pk", flat=True))
        OutboundCall.objects.filter(pk__in=claimed).update(status=OutboundCall.Status.DIALING, provider_call_id="")
    return claimed, next_due(now=now, waiting=waiting)


def outbound_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: for each client whose due index says a call is due (one indexed query in the public schema), claim
    its due calls and queue one dial task each. Two sweeps at once never claim a call twice (row lock on the
    index, then a conditional UPDATE)."""
    from apps.outbound.tasks import outbound_dial_task

    now = now or timezone.now()
    queued = clients = 0
    for client in clients_due(kind=DUE_KIND, now=now):
        with tenant_context(client), due_claim(client_id=client.pk, kind=DUE_KIND) as claim:
            if claim is None:
                continue
            clients += 1
            ids, claim.next_at = _due_claim_batch(now)
            schema = client.schema_name
            for call_id in ids:
                transaction.on_commit(lambda call_id=call_id, schema=schema: outbound_dial_task.apply_async(
                    args=[call_id], headers={"_schema_name": schema}))
            queued += len(ids)
    return {"clients": clients, "queued": queued}


def _retry_or_fail(call: OutboundCall, rules: CallingPolicy, detail: str) -> None:
    from apps.outbound.campaigns import retry_limits

    max_attempts, wait_minutes = retry_limits(call, attempts_default=rules.max_attempts,
                                              minutes_default=rules.retry_minutes)
    if call.attempts >= max_attempts:
        call.status, call.next_attempt_at = OutboundCall.Status.FAILED, None
        call.detail = (_("Not reached after %(n)s attempts.") % {"n": call.attempts})[:200]
        _log(call, "failed", detail)
        if call.callback_id:
            from apps.crm.models import Callback

            Callback.objects.filter(pk=call.callback_id).update(status=Callback.Status.PENDING)
        return
    at = window_next(timezone.now() + timedelta(minutes=wait_minutes), rules, _zone())
    _schedule(call, at)
    call.detail = detail[:200]
    _log(call, "retry", f"{detail} → {at.isoformat()}")


def outbound_dial(*, call_id: int) -> OutboundCall:
    """Place one claimed call (idempotent: a call no longer `dialing`, or already placed, is left alone)."""
    from apps.telephony.webhooks import public_url, signing_provider

    with transaction.atomic():
        call = OutboundCall.objects.select_for_update().filter(pk=call_id).first()
        if call is None or call.status != OutboundCall.Status.DIALING or call.provider_call_id:
            return call  # type: ignore[return-value]
        client, rules = connection.tenant, policy()
        refusal = ""
        if not client.is_active:
            refusal = _("The client is suspended.")
        elif not client_may(client, FEATURE):
            refusal = _("Outbound calls are not in this client's plan.")
        elif dnc_listed(call.to):
            refusal = _("This number is on the do-not-call list.")
        elif consent_live(call.to) is None:
            refusal = _("The consent to be called was withdrawn.")
        if refusal:
            call.status, call.detail, call.next_attempt_at = OutboundCall.Status.BLOCKED, refusal[:200], None
            _log(call, "blocked", refusal)
            call.save()
            return call
        allowed = window_next(timezone.now(), rules, _zone())
        if allowed > timezone.now() + timedelta(seconds=30):  # the window closed while it waited
            _schedule(call, allowed)
            _log(call, "outside calling hours", allowed.isoformat())
            call.save()
            return call
        from_number = _from_number(client)
        route = number_route(from_number) if from_number else None
        provider = signing_provider(route) if route is not None else None
        if provider is None:
            call.status, call.next_attempt_at = OutboundCall.Status.BLOCKED, None
            call.detail = _("This client has no phone number to call from.")
            _log(call, "blocked", call.detail)
            call.save()
            return call
        token = call_token(call)
        call.attempts += 1
        call.from_number = from_number
        try:
            result = provider.call_place(
                to=call.to, from_number=from_number,
                answer_url=public_url(f"/telephony/twilio/outbound/answer?t={token}"),
                status_callback=public_url(f"/telephony/twilio/outbound/status?t={token}"), machine_detection=True)
        except ProviderError as error:
            logger.warning("outbound call %s not placed: %s", call.pk, error.message)
            if error.permanent:
                call.status, call.detail, call.next_attempt_at = OutboundCall.Status.FAILED, error.message[:200], None
                _log(call, "failed", error.message)
            else:
                _retry_or_fail(call, rules, error.message)
            call.save()
            return call
        call.provider_call_id = result.provider_call_id
        _log(call, "dialing", result.provider_call_id)
        call.save()
    return call


@dataclass(frozen=True)
class Answer:
    kind: str  # "agent": hand the call to the agent; "voicemail": say `text` and hang up; "hangup"
    text: str = ""
    language: str = ""


def voicemail_text(call: OutboundCall) -> str:
    business = connection.tenant.name
    with translation.override(call.language or connection.tenant.default_language):
        return _("Hello, this is the virtual assistant of %(business)s, calling about: %(reason)s. "
                 "We will try again later. Goodbye.") % {"business": business, "reason": call.reason[:200]}


def outbound_answered(*, call: OutboundCall, answered_by: str) -> Answer:
    """Twilio's answer request: with machine detection it says who answered (`AnsweredBy`)."""
    rules = policy()
    answered_by = (answered_by or "unknown")[:24]
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update().get(pk=call.pk)
        call.answered_by = answered_by
        if call.status in (OutboundCall.Status.CANCELLED, OutboundCall.Status.BLOCKED):
            call.save(update_fields=["answered_by", "updated"])
            return Answer(kind="hangup")
        if answered_by in MACHINE:
            text = voicemail_text(call) if rules.voicemail and answered_by != "fax" else ""
            _retry_or_fail(call, rules, _("Answered by a machine."))
            if text and call.status == OutboundCall.Status.SCHEDULED:
                _log(call, "voicemail", answered_by)
            call.save()
            return Answer(kind="voicemail" if text else "hangup", text=text, language=call.language)
        call.status = OutboundCall.Status.ANSWERED
        _log(call, "answered", answered_by)
        call.save()
    return Answer(kind="agent", text=call.reason, language=call.language)


def outbound_greeting(*, call: OutboundCall, agent: Any) -> str:
    """What the agent says first on a call it placed: who it is and why it calls (it knows why it calls)."""
    name = (call.name or "").strip()
    business = str((agent.business or {}).get("business_name") or "") or connection.tenant.name
    with translation.override(call.language or connection.tenant.default_language):
        hello = _("Hello %(name)s,") % {"name": name} if name else _("Hello,")
        return hello + " " + _("this is the virtual assistant of %(business)s. I am calling about: %(reason)s. "
                               "Is this a good time?") % {"business": business, "reason": call.reason[:300]}


def outbound_sorry(*, call: OutboundCall) -> str:
    with translation.override(call.language or connection.tenant.default_language):
        return _("Sorry, all our lines are busy: we will call you back a little later. Goodbye.")


def outbound_no_line(*, call: OutboundCall) -> OutboundCall:
    """The person answered but every line of the client is taken: try again later, within the policy."""
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update().get(pk=call.pk)
        _retry_or_fail(call, policy(), _("All lines were busy."))
        call.save()
    return call


def outbound_status(*, call: OutboundCall, status: str, duration: str = "") -> OutboundCall:
    """Twilio's status callback. `completed` after a person answered: done (and the callback with it); busy, no
    answer, failed: tried again later within the policy, then given up."""
    status = (status or "").strip().lower()[:24]
    with transaction.atomic():
        call = OutboundCall.objects.select_for_update().get(pk=call.pk)
        if status == "completed" and call.status == OutboundCall.Status.ANSWERED:
            call.status, call.next_attempt_at = OutboundCall.Status.DONE, None
            _log(call, "done", duration and f"{duration} s")
            if call.callback is not None:
                from apps.crm.services import callback_done

                callback_done(callback=call.callback)  # its callback.done event with it
        elif status in RETRY_STATUSES and call.status == OutboundCall.Status.DIALING:
            _retry_or_fail(call, policy(), status)
        elif status == "completed" and call.status == OutboundCall.Status.DIALING:
            _retry_or_fail(call, policy(), _("Hung up before anyone answered."))
        else:
            _log(call, status or "?")
        call.save()
    return call


def call_for_token(*, token: str, schema: str) -> OutboundCall:
    """The call a token names, in the schema the number's route chose; another schema's token is unknown."""
    token_schema, call_id = token_read(token)
    if token_schema != schema:
        raise NotFound(_("Unknown call."))
    call = OutboundCall.objects.filter(pk=call_id).first()
    if call is None:
        raise NotFound(_("Unknown call."))
    return call
