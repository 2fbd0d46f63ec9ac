"""Booking notices: confirmed / changed / cancelled (queued at once) and reminders the day before and one hour before
(queued by the beat sweep), by the channel the person chose, in their language, in the client's time zone.

Idempotent: one `Notice` per (appointment, kind) — a unique constraint — claimed out of `scheduled` with a row lock
(SKIP LOCKED) in the transaction that queues its delivery; two sweeps, two beats or two workers never queue a notice
twice. The sweep only enters client schemas the public due index (apps.schedule) names.

Times: the day-before reminder goes at the same wall-clock time the day before, in the client's zone (across a DST
change that is 23 or 25 hours); the one-hour reminder one real hour before. Quiet hours (client's zone) postpone a
reminder to their end, or skip it if that would be too close to the appointment. Notices answering what the person
just did (confirmed, changed, cancelled) are not held by quiet hours."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from apps.bookings.models import Appointment
from apps.core.errors import InvalidInput
from apps.integrations.models import Delivery
from apps.integrations.services import deliveries_send_later
from apps.messaging.contacts import address_normalise, contacts_for_many
from apps.messaging.models import MessagingSettings, Notice
from apps.messaging.sending import MessageRefused, person_message_send
from apps.schedule.services import Claim, clients_due, due_claim, due_note

logger = logging.getLogger(__name__)
DUE_KIND = "notices"
LANGUAGES = ("fr", "en", "es", "ar", "ary")
MIN_BEFORE_START = timedelta(minutes=30)  # a reminder postponed by quiet hours must still arrive this early
SWEEP_LIMIT = 5000  # notices one client's sweep handles per tick; the rest stay due for the next tick
IMMEDIATE = {"confirmed", "changed", "cancelled"}


def messaging_settings() -> MessagingSettings:
    """The client's one settings row (pk 1), made with the defaults the first time (safe under a race)."""
    row = MessagingSettings.objects.filter(pk=1).first()
    if row is None:
        try:
            with transaction.atomic():
                row = MessagingSettings.objects.create(pk=1)
        except IntegrityError:
            row = MessagingSettings.objects.get(pk=1)
    return row


def _zone() -> ZoneInfo:
    tenant = getattr(connection, "tenant", None)
    try:
        return ZoneInfo(getattr(tenant, "timezone", "") or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def day_before(start: datetime, zone: ZoneInfo) -> datetime:
    """The same wall-clock time one day earlier in `zone` (a time that does not exist that day, in a spring-forward
    gap, moves forward like the clocks did)."""
    local = start.astimezone(zone)
    earlier = datetime.combine(local.date() - timedelta(days=1), local.timetz().replace(tzinfo=None), zone)
    return earlier.astimezone(ZoneInfo("UTC")).astimezone(zone)


def quiet_end(moment: datetime, settings_row: MessagingSettings, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around `moment` end (in `zone`), or None when `moment` is not in quiet hours."""
    start, end = settings_row.quiet_start, settings_row.quiet_end
    if start == end:
        return None
    local = moment.astimezone(zone)
    now_t = local.time().replace(tzinfo=None)
    overnight = start > end  # 21:00 → 08:00
    inside = (now_t >= start or now_t < end) if overnight else (start <= now_t < end)
    if not inside:
        return None
    day = local.date() + timedelta(days=1) if overnight and now_t >= start else local.date()
    return datetime.combine(day, end, zone)


def _target(appointment: Appointment) -> tuple[str, str] | None:
    """(channel, address) the person chose, else their conversation's channel, else e-mail, else SMS."""
    conversation = appointment.conversation
    wanted = appointment.notify_channel
    if not wanted and conversation is not None and conversation.channel in {"sms", "whatsapp", "email"}:
        wanted = conversation.channel
    phone = appointment.customer_phone or (conversation.visitor_phone if conversation is not None else "")
    email = appointment.customer_email or (conversation.visitor_email if conversation is not None else "")
    candidates = [wanted] if wanted else ["email", "sms"]
    for channel in candidates:
        address = email if channel == "email" else phone
        if not address:
            continue
        try:
            return channel, address_normalise(channel=channel, address=address)
        except InvalidInput:
            continue
    return None


def _language(appointment: Appointment) -> str:
    conversation = appointment.conversation
    for code in (appointment.language, getattr(conversation, "language", ""),
                 getattr(getattr(connection, "tenant", None), "default_language", "")):
        if code in LANGUAGES:
            return code
    return "fr"


def notices_plan(*, appointment: Appointment, event: str) -> list[Notice]:
    """What a booking event means for the person's messages. `event`: "confirmed" or "changed" (a new booking: that
    notice now, both reminders later), "cancelled" (that notice now, reminders dropped), "moved" (the old booking of
    a reschedule: reminders dropped, nothing sent — the new booking's "changed" says it). Never raises for a
    message that cannot go out: the notice is kept as skipped, with why."""
    with transaction.atomic():
        if event in {"cancelled", "moved"}:
            Notice.objects.filter(appointment=appointment, status=Notice.Status.SCHEDULED).exclude(
                kind__in=IMMEDIATE).update(status=Notice.Status.SKIPPED, reason=event, updated=timezone.now())
        if event == "moved":
            return []
        target = _target(appointment)
        if target is None:
            return []
        channel, address = target
        language, now, zone = _language(appointment), timezone.now(), _zone()
        made: list[Notice] = []
        kinds: list[tuple[str, datetime]] = [(event, now)]
        if event in {"confirmed", "changed"}:
            kinds += [("reminder_24h", day_before(appointment.start, zone)),
                      ("reminder_1h", appointment.start - timedelta(hours=1))]
        for kind, due in kinds:
            status, reason = Notice.Status.SCHEDULED, ""
            if kind not in IMMEDIATE and due <= now:
                status, reason = Notice.Status.SKIPPED, "booked too late"
            try:
                with transaction.atomic():
                    made.append(Notice.objects.create(appointment=appointment, kind=kind, channel=channel, to=address,
                                                      language=language, due_at=due, status=status, reason=reason))
            except IntegrityError:  # already planned: the unique (appointment, kind) is the idempotency key
                continue
        later = [n.due_at for n in made if n.status == Notice.Status.SCHEDULED and n.kind not in IMMEDIATE]
        if later:
            due_note(client_id=connection.tenant.pk, kind=DUE_KIND, at=min(later))
        immediate = [n for n in made if n.kind in IMMEDIATE]
        if immediate:
            ids = [n.pk for n in Notice.objects.select_for_update(skip_locked=True).filter(
                pk__in=[n.pk for n in immediate], status=Notice.Status.SCHEDULED)]
            deliveries_send_later(_queue_many(list(Notice.objects.filter(pk__in=ids).select_related(
                "appointment__agent", "appointment__conversation"))))
    return made


def _when(appointment: Appointment, language: str) -> dict[str, str]:
    local = appointment.start.astimezone(_zone())
    with translation.override(language):
        return {"date": formats.date_format(local, "DATE_FORMAT"), "time": formats.time_format(local, "TIME_FORMAT")}


def _business(appointment: Appointment) -> str:
    business = appointment.agent.business or {}
    return str(business.get("business_name") or getattr(connection.tenant, "name", ""))


def notice_text(notice: Notice) -> tuple[str, str, dict[str, str]]:
    """(subject, body, values) in the notice's language; values fill a WhatsApp template's variables."""
    appointment = notice.appointment
    values = {"business": _business(appointment), "reference": appointment.reference,
              "name": appointment.customer_name, **_when(appointment, notice.language)}
    with translation.override(notice.language):
        texts = {
            "confirmed": _("Your appointment with %(business)s on %(date)s at %(time)s is booked (reference "
                           "%(reference)s). Reply YES to confirm, CANCEL to cancel or MOVE to change the time."),
            "changed": _("Your appointment with %(business)s is moved to %(date)s at %(time)s (reference "
                         "%(reference)s). Reply CANCEL to cancel or MOVE to change the time."),
            "cancelled": _("Your appointment with %(business)s on %(date)s at %(time)s is cancelled (reference "
                           "%(reference)s)."),
            "reminder_24h": _("Reminder: your appointment with %(business)s is tomorrow, %(date)s at %(time)s. "
                              "Reply YES to confirm, CANCEL to cancel or MOVE to change the time."),
            "reminder_1h": _("Reminder: your appointment with %(business)s is today at %(time)s. Reply CANCEL if you "
                             "cannot come."),
        }
        body = texts[notice.kind] % values
        subject = _("Your appointment with %(business)s") % values if notice.channel == "email" else ""
        if notice.channel == "email":
            body = "\n\n".join([_("Hello %(name)s,") % values, body, values["business"]])
    return subject, body, values


def _queue_many(notices: list[Notice]) -> list[int]:
    """Queue each notice's message — its deliveries bulk-inserted, its contacts read in one go, the notices updated in
    one statement — and return the deliveries' ids for the caller to send after the commit. A notice that cannot go
    out (opted out, bounced, no WhatsApp template, a bad address) is skipped, with why."""
    if not notices:
        return []
    contacts = contacts_for_many({(notice.channel, notice.to) for notice in notices})
    pending: list[tuple[Notice, Any]] = []
    now = timezone.now()
    for notice in notices:
        subject, body, values = notice_text(notice)
        notice.updated = now
        try:
            delivery = person_message_send(channel=notice.channel, to=notice.to, body=body, subject=subject,
                                           purpose=f"notice:{notice.kind}", language=notice.language,
                                           template_purpose=notice.kind, values=values,
                                           conversation=notice.appointment.conversation, send=False, save=False,
                                           contact=contacts.get((notice.channel, notice.to)))
        except (MessageRefused, InvalidInput) as refused:
            notice.status, notice.reason = Notice.Status.SKIPPED, getattr(refused, "reason", "invalid address")
            continue
        pending.append((notice, delivery))
    created = Delivery.objects.bulk_create([delivery for _notice, delivery in pending])
    for (notice, _unsaved), delivery in zip(pending, created, strict=True):
        notice.status, notice.delivery = Notice.Status.QUEUED, delivery
    Notice.objects.bulk_update(notices, ["status", "reason", "delivery", "updated"])
    return [delivery.pk for delivery in created]


def notices_claim_and_queue(*, now: datetime, limit: int = SWEEP_LIMIT) -> tuple[int, datetime | None]:
    """In the current client's schema and transaction: lock the due notices (SKIP LOCKED), queue each (or postpone
    it past quiet hours, or skip it), send the batch after the commit. (queued, the earliest notice still due)."""
    settings_row, zone = messaging_settings(), _zone()
    due = list(Notice.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(status=Notice.Status.SCHEDULED, due_at__lte=now)
               .select_related("appointment__agent", "appointment__conversation").order_by("due_at")[:limit])
    quiet_until = quiet_end(now, settings_row, zone)
    ready: list[Notice] = []
    held: list[Notice] = []
    for notice in due:
        appointment = notice.appointment
        notice.updated = now
        if appointment.status != Appointment.Status.BOOKED or appointment.start <= now:
            notice.status, notice.reason = Notice.Status.SKIPPED, "appointment cancelled or past"
        elif quiet_until is not None and quiet_until <= appointment.start - MIN_BEFORE_START:
            notice.due_at = quiet_until  # waits for the end of the quiet hours
        elif quiet_until is not None:
            notice.status, notice.reason = Notice.Status.SKIPPED, "quiet hours"
        else:
            ready.append(notice)
            continue
        held.append(notice)
    Notice.objects.bulk_update(held, ["status", "reason", "due_at", "updated"])
    deliveries = _queue_many(ready)
    deliveries_send_later(deliveries)
    following = (Notice.objects.filter(status=Notice.Status.SCHEDULED).order_by("due_at")
                 .values_list("due_at", flat=True).first())
    return len(deliveries), following


def notices_sweep(*, now: datetime | None = None) -> dict[str, Any]:
    """One beat tick: every client the due index names, in its schema, under its due row's lock."""
    from django_tenants.utils import tenant_context

    now = now or timezone.now()
    queued = clients = skipped_clients = 0
    for client in clients_due(kind=DUE_KIND, now=now):
        with tenant_context(client):
            claim: Claim | None
            with due_claim(client_id=client.pk, kind=DUE_KIND) as claim:
                if claim is None:  # another sweep holds this client
                    skipped_clients += 1
                    continue
                count, claim.next_at = notices_claim_and_queue(now=now)
                queued += count
                clients += 1
    connection.set_schema_to_public()
    return {"queued": queued, "clients": clients, "busy": skipped_clients}


def notices_upcoming(*, limit: int = 200) -> Any:
    return Notice.objects.select_related("appointment", "delivery").order_by("-due_at")[:limit]
