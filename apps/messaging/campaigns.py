"""Message campaigns (first version): contacts from a CSV file or a segment of leads → one message each by SMS,
WhatsApp or e-mail, from a start time, `batch_size` a minute, outside quiet hours; opted-out and bounced people
skipped; a failed message tried again `retry_minutes` later (doubling) up to `max_attempts`; progress and results per
contact; pause and resume.

Channel "call": the same campaign, its contacts placed as outbound calls by `apps.outbound` (do-not-call list,
recorded consent, calling hours, answering-machine detection, the campaign's tries with a doubling back-off, at most
`concurrency` calls at once within the client's free lines): see `apps/outbound/campaigns.py`.

Writes check the role (owner or admin; agency staff), run in one transaction and are audited. Call inside the
client's schema."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.clients.models import Membership
from apps.core.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from apps.core.inputs import text_clean
from apps.integrations.models import Delivery
from apps.integrations.services import deliveries_send_later
from apps.messaging.contacts import address_normalise, contact_for
from apps.messaging.models import Campaign, CampaignRecipient, Contact, WhatsAppTemplate
from apps.messaging.notices import LANGUAGES, _zone, messaging_settings, quiet_end
from apps.messaging.sending import MessageRefused, person_message_send, template_variables
from apps.schedule.services import clients_due, due_claim, due_note

logger = logging.getLogger(__name__)
DUE_KIND = "campaigns"
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_RECIPIENTS = 20000
MAX_BODY = 1600
TICK = timedelta(minutes=1)
CALL_CHUNK = 200  # call campaigns: contacts turned into scheduled calls per tick (the cap paces the dialling)
CHANNELS = {"sms", "whatsapp", "email", "call"}
NO = {"", "0", "no", "non", "false", "n", "لا"}


def _require_manager(*, client: Any, actor: Any) -> None:
    if getattr(actor, "is_staff", False):
        return
    if actor is None or not Membership.objects.filter(
            user=actor, client=client, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]).exists():
        raise PermissionDenied(_("Only an owner or an admin can manage campaigns."))


def _bounded(value: Any, *, low: int, high: int, default: int, label: str) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip()[:12])
    except ValueError:
        raise InvalidInput(_("%(field)s must be a whole number.") % {"field": label}) from None
    if not low <= number <= high:
        raise InvalidInput(_("%(field)s must be between %(low)s and %(high)s.")
                           % {"field": label, "low": low, "high": high})
    return number


def campaign_channels(client: Any) -> list[tuple[str, Any]]:
    """The channels this client's campaigns may use (calls with the plan's outbound calls)."""
    from apps.clients.entitlements import client_may
    from apps.messaging.models import CAMPAIGN_CHANNELS

    return [(value, label) for value, label in CAMPAIGN_CHANNELS
            if value != "call" or client_may(client, "outbound_calls")]


def campaign_create(*, client: Any, actor: Any, name: str, channel: str, body: str = "", subject: str = "",
                    template_id: int | None = None, start_at: datetime | None = None, max_attempts: Any = None,
                    retry_minutes: Any = None, batch_size: Any = None, concurrency: Any = None,
                    consent_source: str = "", ip: str | None = None) -> Campaign:
    _require_manager(client=client, actor=actor)
    name = text_clean(name or "", field="name").strip()[:120]
    body = text_clean(body or "", field="body").strip()
    subject = text_clean(subject or "", field="subject").strip()[:200]
    consent_source = text_clean(consent_source or "", field="consent").strip()[:200]
    if not name:
        raise InvalidInput(_("Give the campaign a name."))
    if channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel."))
    if channel == "call":
        from apps.clients.entitlements import client_require

        client_require(client, "outbound_calls")
        if not body:
            raise InvalidInput(_("Say why the agent calls: it tells the person."))
    if len(body) > MAX_BODY:
        raise PayloadTooLarge(_("The message is too long (%(max)d characters at most).") % {"max": MAX_BODY})
    template = None
    if template_id:
        if channel != "whatsapp":
            raise InvalidInput(_("Templates are for WhatsApp campaigns."))
        template = WhatsAppTemplate.objects.filter(pk=template_id, enabled=True).first()
        if template is None:
            raise NotFound(_("No such template."))
    if not body and template is None:
        raise InvalidInput(_("Write the message (or choose a WhatsApp template)."))
    if start_at is not None and timezone.is_naive(start_at):
        raise InvalidInput(_("The time must carry its time zone."))
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name, channel=channel, body=body, subject=subject, template=template,
            start_at=start_at or timezone.now(),
            max_attempts=_bounded(max_attempts, low=1, high=10, default=3, label=_("Tries per contact")),
            retry_minutes=_bounded(retry_minutes, low=1, high=7 * 24 * 60, default=30,
                                   label=_("Minutes between tries")),
            batch_size=_bounded(batch_size, low=1, high=1000, default=60, label=_("Messages per minute")),
            concurrency=_bounded(concurrency, low=1, high=50, default=2, label=_("Calls at once")),
            consent_source=consent_source if channel == "call" else "")
        audit_record(action="campaign.created", actor=actor, target=f"campaign:{campaign.pk}", ip=ip,
                     data={"channel": channel})
    return campaign


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


BAD_CHAR = "\ufffd"


def _csv_rows(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for each row; a row with a NUL byte (or a character that is not text) is kept marked so
    that it is reported on its own line, not the whole file refused."""
    if len(raw) > MAX_CSV_BYTES:
        raise PayloadTooLarge(_("The file is too large (%(mb)d MB at most).") % {"mb": MAX_CSV_BYTES // 1024 // 1024})
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(_("The file must be a CSV file in UTF-8.")) from None
    text = text.replace("\x00", BAD_CHAR)
    first = text.split("\n", 1)[0]
    if BAD_CHAR in first:
        raise InvalidInput(_("The file must be a CSV file in UTF-8."))
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    headers = {(name or "").strip().lower() for name in (reader.fieldnames or [])}
    if not headers & {"phone", "email", "address", "to"}:
        raise InvalidInput(_("The first line must name the columns: phone (or email), and optionally name and "
                             "language."))
    rows = []
    for row in reader:
        rows.append((reader.line_num, {(k or "").strip().lower(): v.strip() if isinstance(v, str) else ""
                                       for k, v in row.items()}))
        if len(rows) > MAX_RECIPIENTS:
            raise PayloadTooLarge(_("At most %(n)d contacts per campaign.") % {"n": MAX_RECIPIENTS})
    return rows


def _add(campaign: Campaign, entries: list[tuple[int, str, str, str, str]], result: ImportResult) -> None:
    """Entries are (line, address, name, language, consent); a call campaign records each person's consent (the
    row's own, or the member's word for the whole list) with its source."""
    if CampaignRecipient.objects.filter(campaign=campaign).count() + len(entries) > MAX_RECIPIENTS:
        raise PayloadTooLarge(_("At most %(n)d contacts per campaign.") % {"n": MAX_RECIPIENTS})
    seen = set(CampaignRecipient.objects.filter(campaign=campaign).values_list("address", flat=True))
    fresh = []
    calls = campaign.channel == "call"
    for line, address, name, language, consent in entries:
        if BAD_CHAR in address + name + language + consent:
            result.rejected.append((line, _("The line contains a NUL byte or characters that are not text.")))
            continue
        try:
            address = address_normalise(channel="sms" if calls else campaign.channel, address=address)
        except InvalidInput as error:
            result.rejected.append((line, error.message))
            continue
        if address in seen:
            result.duplicates += 1
            continue
        seen.add(address)
        if calls:
            _consent_keep(campaign, address, consent)
        fresh.append(CampaignRecipient(campaign=campaign, address=address, name=name[:120],
                                       language=language if language in LANGUAGES else ""))
    CampaignRecipient.objects.bulk_create(fresh)
    result.added += len(fresh)


def _consent_keep(campaign: Campaign, phone: str, consent: str) -> None:
    from apps.outbound.services import consent_record, dnc_listed

    own = "" if consent.strip().lower() in NO else consent.strip()
    if dnc_listed(phone) or not (own or campaign.consent_source):
        return
    source = (_("Campaign “%(name)s”, its file: %(consent)s") % {"name": campaign.name, "consent": own} if own
              else _("Campaign “%(name)s”: %(consent)s") % {"name": campaign.name, "consent": campaign.consent_source})
    consent_record(phone=phone, source=source[:200])


def _report(campaign: Campaign, result: ImportResult) -> None:
    """Keep the lines not imported (the campaign page lists them), then refuse a file of which nothing was kept."""
    campaign.rejected = [*campaign.rejected, *[[line, why] for line, why in result.rejected]][:500]
    campaign.save(update_fields=["rejected", "updated"])
    if not result.added and not result.duplicates and result.rejected:
        raise InvalidInput(_("No contact could be read: %(why)s") % {
            "why": "; ".join(f"{line}: {why}" for line, why in result.rejected[:5])})


def campaign_import_csv(*, client: Any, actor: Any, campaign_id: int, raw: bytes, ip: str | None = None
                        ) -> ImportResult:
    """Add the file's contacts (columns phone or email, name, language; comma or semicolon); bad lines are reported,
    the good ones kept."""
    _require_manager(client=client, actor=actor)
    rows = _csv_rows(raw)
    result = ImportResult()
    with transaction.atomic():
        campaign = _campaign(campaign_id, lock=True)
        column = "email" if campaign.channel == "email" else "phone"
        entries = [(n, row.get(column) or row.get("address") or row.get("to") or "", row.get("name", ""),
                    row.get("language", ""), row.get("consent", "")) for n, row in rows]
        _add(campaign, entries, result)
        _report(campaign, result)
        audit_record(action="campaign.contacts_imported", actor=actor, target=f"campaign:{campaign.pk}", ip=ip,
                     data={"added": result.added, "rejected": len(result.rejected)})
    return result


def campaign_import_leads(*, client: Any, actor: Any, campaign_id: int, status: str = "",
                          ip: str | None = None) -> ImportResult:
    """Add the leads (of one status, or all) that have an address for the campaign's channel."""
    from apps.crm.models import Lead

    _require_manager(client=client, actor=actor)
    result = ImportResult()
    with transaction.atomic():
        campaign = _campaign(campaign_id, lock=True)
        leads = Lead.objects.all()
        if status:
            if status not in Lead.Status.values:
                raise InvalidInput(_("Unknown status."))
            leads = leads.filter(status=status)
        column = "email" if campaign.channel == "email" else "phone"
        entries = [(lead.pk, getattr(lead, column), lead.name, "", "")
                   for lead in leads.exclude(**{column: ""})[:MAX_RECIPIENTS]]
        _add(campaign, entries, result)
        audit_record(action="campaign.contacts_imported", actor=actor, target=f"campaign:{campaign.pk}", ip=ip,
                     data={"added": result.added, "source": "leads", "status": status})
    return result


def _campaign(campaign_id: Any, *, lock: bool = False) -> Campaign:
    try:
        pk = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    rows = Campaign.objects.select_for_update() if lock else Campaign.objects
    campaign = rows.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


def campaign_set_status(*, client: Any, actor: Any, campaign_id: int, action: str, ip: str | None = None
                        ) -> Campaign:
    """"start" (a draft), "pause" (running), "resume" (paused)."""
    _require_manager(client=client, actor=actor)
    moves = {"start": (Campaign.Status.DRAFT, Campaign.Status.RUNNING),
             "pause": (Campaign.Status.RUNNING, Campaign.Status.PAUSED),
             "resume": (Campaign.Status.PAUSED, Campaign.Status.RUNNING)}
    if action not in moves:
        raise InvalidInput(_("Unknown action."))
    with transaction.atomic():
        campaign = _campaign(campaign_id, lock=True)
        before, after = moves[action]
        if campaign.status != before:
            raise InvalidInput(_("This campaign cannot do that now."))
        if action == "start" and not campaign.recipients.exists():
            raise InvalidInput(_("Add contacts first."))
        campaign.status = after
        campaign.save(update_fields=["status", "updated"])
        if after == Campaign.Status.RUNNING:
            due_note(client_id=client.pk, kind=DUE_KIND, at=max(campaign.start_at, timezone.now()))
            if campaign.channel == "call":  # its waiting calls may be dialled again
                from apps.outbound.services import DUE_KIND as CALLS_DUE

                due_note(client_id=client.pk, kind=CALLS_DUE, at=max(campaign.start_at, timezone.now()))
        audit_record(action=f"campaign.{action}", actor=actor, target=f"campaign:{campaign.pk}", ip=ip, data={})
    return campaign


def _message(campaign: Campaign, recipient: CampaignRecipient) -> str:
    name = recipient.name or ""
    try:
        return campaign.body.replace("{name}", name) if campaign.body else (campaign.template.preview
                                                                           if campaign.template else "")
    except (AttributeError, ValueError):
        return campaign.body


def campaign_tick(*, campaign: Campaign, now: datetime) -> tuple[int, datetime | None]:
    """Send the campaign's next batch (in the caller's transaction); (queued, when it next has work)."""
    if campaign.status != Campaign.Status.RUNNING:
        return 0, None
    if campaign.start_at > now:
        return 0, campaign.start_at
    if campaign.channel == "call":
        return _call_tick(campaign, now)
    quiet = quiet_end(now, messaging_settings(), _zone())
    if quiet is not None:
        return 0, quiet
    batch = list(CampaignRecipient.objects.select_for_update(skip_locked=True)
                 .filter(campaign=campaign, status=CampaignRecipient.Status.PENDING)
                 .exclude(next_at__gt=now).order_by("id")[:campaign.batch_size])
    deliveries = []
    for recipient in batch:
        deliveries.extend(_send_one(campaign, recipient, now))
    deliveries_send_later(deliveries)
    campaign_maybe_done(campaign)
    pending = CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.PENDING)
    if not pending.exists():
        return len(deliveries), None
    later = pending.aggregate(first=Min("next_at"))["first"]
    return len(deliveries), max(now + TICK, later or now)


def _call_tick(campaign: Campaign, now: datetime) -> tuple[int, datetime | None]:
    """A call campaign's contacts become scheduled (or refused) calls; the outbound sweep dials them, a few at a
    time (the campaign's concurrency, the client's free lines)."""
    from apps.outbound.campaigns import campaign_call_plan

    batch = list(CampaignRecipient.objects.select_for_update(skip_locked=True, of=("self",))
                 .filter(campaign=campaign, status=CampaignRecipient.Status.PENDING, outbound_call__isnull=True)
                 .order_by("id")[:CALL_CHUNK])
    for recipient in batch:
        campaign_call_plan(campaign=campaign, recipient=recipient, now=now)  # the contact follows its call
    campaign_maybe_done(campaign)
    more = CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.PENDING,
                                            outbound_call__isnull=True).exists()
    return len(batch), (now + TICK if more else None)


def _send_one(campaign: Campaign, recipient: CampaignRecipient, now: datetime) -> list[int]:
    body = _message(campaign, recipient)
    try:
        contact = contact_for(channel=campaign.channel, address=recipient.address, name=recipient.name,
                              language=recipient.language)
        if campaign.channel == "whatsapp" and campaign.template is not None:
            values = {"name": recipient.name}
            delivery = _template_send(campaign, contact, body, values)
        else:
            delivery = person_message_send(channel=campaign.channel, to=recipient.address, body=body,
                                           subject=campaign.subject, purpose=f"campaign:{campaign.pk}",
                                           language=recipient.language, template_purpose="campaign",
                                           values={"name": recipient.name}, send=False, contact=contact)
    except MessageRefused as refused:
        recipient.status = (CampaignRecipient.Status.OPTED_OUT if refused.reason in {"opted_out", "bounced"}
                            else CampaignRecipient.Status.FAILED)
        recipient.last_error = refused.message[:500]
        recipient.save(update_fields=["status", "last_error", "updated"])
        return []
    except InvalidInput as error:
        recipient.status, recipient.last_error = CampaignRecipient.Status.FAILED, error.message[:500]
        recipient.save(update_fields=["status", "last_error", "updated"])
        return []
    recipient.status, recipient.delivery, recipient.attempts = CampaignRecipient.Status.QUEUED, delivery, \
        recipient.attempts + 1
    recipient.save(update_fields=["status", "delivery", "attempts", "updated"])
    return [delivery.pk]


def _template_send(campaign: Campaign, contact: Any, body: str, values: dict[str, str]) -> Delivery:
    """A WhatsApp campaign with its template: business-initiated, so the template goes even inside the window."""
    from apps.integrations.services import delivery_queue

    if contact.opted_out or contact.bounced_at is not None:
        raise MessageRefused(_("This person asked to receive no more messages."), reason="opted_out")
    return delivery_queue(channel="whatsapp", to=contact.address, body=body or campaign.template.preview,
                          purpose=f"campaign:{campaign.pk}", content_sid=campaign.template.content_sid,
                          content_variables=template_variables(campaign.template, values), send=False)


def recipient_delivery_settled(*, delivery: Delivery) -> None:
    """Called when a delivery is sent, delivered or failed: its campaign contact follows; a failure with tries left
    goes back to waiting, `retry_minutes` × 2ⁿ later."""
    if not delivery.purpose.startswith("campaign:"):
        return
    recipient = CampaignRecipient.objects.select_related("campaign").filter(delivery=delivery).first()
    if recipient is None:
        return
    campaign = recipient.campaign
    if delivery.status == Delivery.Status.FAILED:
        refused = Contact.objects.filter(channel=delivery.channel, address=delivery.to,
                                         bounced_at__isnull=False).exists()
        if recipient.attempts < campaign.max_attempts and not refused:
            recipient.status = CampaignRecipient.Status.PENDING
            recipient.next_at = timezone.now() + timedelta(minutes=campaign.retry_minutes
                                                           * 2 ** max(recipient.attempts - 1, 0))
            due_note(client_id=connection.tenant.pk, kind=DUE_KIND, at=recipient.next_at)
        else:
            recipient.status = CampaignRecipient.Status.FAILED
        recipient.last_error = delivery.last_error[:500]
    else:
        recipient.status = (CampaignRecipient.Status.DELIVERED if delivery.status == Delivery.Status.DELIVERED
                            else CampaignRecipient.Status.SENT)
        recipient.last_error = ""
    recipient.save(update_fields=["status", "next_at", "last_error", "updated"])
    campaign_maybe_done(campaign)


def campaign_maybe_done(campaign: Campaign) -> None:
    open_ = CampaignRecipient.objects.filter(campaign=campaign, status__in=[
        CampaignRecipient.Status.PENDING, CampaignRecipient.Status.QUEUED, CampaignRecipient.Status.CALLING]).exists()
    if not open_ and campaign.status == Campaign.Status.RUNNING:
        Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.RUNNING).update(status=Campaign.Status.DONE)


def campaigns_sweep(*, now: datetime | None = None) -> dict[str, int]:
    from django_tenants.utils import tenant_context

    now = now or timezone.now()
    queued = 0
    for client in clients_due(kind=DUE_KIND, now=now):
        with tenant_context(client), due_claim(client_id=client.pk, kind=DUE_KIND) as claim:
            if claim is None:
                continue
            nexts = []
            for campaign in Campaign.objects.filter(status=Campaign.Status.RUNNING):
                count, following = campaign_tick(campaign=campaign, now=now)
                queued += count
                if following is not None:
                    nexts.append(following)
            claim.next_at = min(nexts) if nexts else None
    connection.set_schema_to_public()
    return {"queued": queued}


def campaign_progress(campaign: Campaign) -> dict[str, int]:
    counts = dict(CampaignRecipient.objects.filter(campaign=campaign).values_list("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    total = sum(counts.values())
    done = sum(counts.get(s, 0) for s in ("sent", "delivered", "failed", "opted_out", "answered", "voicemail",
                                          "no_answer", "refused"))
    return {**{s: counts.get(s, 0) for s in CampaignRecipient.Status.values}, "total": total, "done": done,
            "percent": round(100 * done / total) if total else 0}


def campaigns_list() -> Any:
    return Campaign.objects.all()[:200]


def campaign_detail(*, campaign_id: Any) -> tuple[Campaign, dict[str, int], Any]:
    """The campaign, its progress (for a call campaign also `listed` / `no_consent`: waiting contacts that will
    not be called), its first 500 contacts."""
    campaign = _campaign(campaign_id)
    progress = campaign_progress(campaign)
    if campaign.channel == "call":
        from apps.outbound.campaigns import campaign_call_check

        progress.update(campaign_call_check(campaign=campaign))
    return campaign, progress, campaign.recipients.select_related("delivery")[:500]


def _start_from_form(data: Any) -> datetime | None:
    """The form's start: a day as typed in the language's way (or ISO) and HH:MM, in the client's zone."""
    from apps.core.dates import date_parse

    day_text, time_text = str(data.get("start_date") or "").strip(), str(data.get("start_time") or "").strip()
    if not day_text and not time_text:
        return None
    day = date_parse(day_text) if day_text else timezone.now().astimezone(_zone()).date()
    if day is None:
        raise InvalidInput(_("Enter the start day like %(example)s.") % {"example": "31/12/2026"})
    try:
        moment = datetime.strptime(time_text or "09:00", "%H:%M").time()
    except ValueError:
        raise InvalidInput(_("Enter the start time like 09:30.")) from None
    start = datetime.combine(day, moment, _zone())
    if start > timezone.now() + timedelta(days=366):
        raise InvalidInput(_("Start within a year."))
    return start


def campaign_create_from_form(*, client: Any, actor: Any, data: Any, raw: bytes, ip: str | None = None) -> Campaign:
    """The dashboard's form: the campaign and its contacts (a CSV file, or the leads of a status) in one go."""
    _require_manager(client=client, actor=actor)
    template_text = str(data.get("template") or "").strip()
    if template_text and not template_text.isdigit():
        raise NotFound(_("No such template."))
    source = str(data.get("source") or "csv")
    if source == "csv" and not raw:
        raise InvalidInput(_("Choose a CSV file, or take the contacts from your leads."))
    with transaction.atomic():
        campaign = campaign_create(client=client, actor=actor, name=str(data.get("name") or ""),
                                   channel=str(data.get("channel") or ""), body=str(data.get("body") or ""),
                                   subject=str(data.get("subject") or ""),
                                   template_id=int(template_text[:18]) if template_text else None,
                                   start_at=_start_from_form(data), max_attempts=data.get("max_attempts"),
                                   retry_minutes=data.get("retry_minutes"), batch_size=data.get("batch_size"),
                                   concurrency=data.get("concurrency"),
                                   consent_source=str(data.get("consent_source") or ""), ip=ip)
        if source == "leads":
            result = campaign_import_leads(client=client, actor=actor, campaign_id=campaign.pk,
                                           status=str(data.get("lead_status") or ""), ip=ip)
        else:
            result = campaign_import_csv(client=client, actor=actor, campaign_id=campaign.pk, raw=raw, ip=ip)
        if not result.added:
            raise InvalidInput(_("No contact could be read: %(why)s") % {
                "why": "; ".join(f"{line}: {why}" for line, why in result.rejected[:5]) or "—"})
    return campaign
