"""Sending SMS, WhatsApp and e-mail: queue a Delivery; a Celery task sends it through the client's provider
(apps.integrations), whose offline twin keeps it in the outbox. Through `sending.person_message_send`, so an
opted-out person gets nothing and WhatsApp's 24-hour rule holds."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.billing.pricing import KIND_METRIC
from apps.billing.usage import usage_record, usage_require
from apps.core.errors import InvalidInput, NotFound
from apps.core.inputs import text_clean
from apps.integrations.models import Delivery
from apps.messaging.models import MessagingSettings, WhatsAppTemplate
from apps.messaging.sending import person_message_send


def message_send(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None,
                 purpose: str = "agent") -> Delivery:
    """Queue the message and return at once (status `queued`); nothing is sent inline. MessageRefused (an
    InvalidInput) for an opted-out or bounced address, or WhatsApp outside the window. Billed as one `channel`
    unit (sms, whatsapp, email: the plan's messages, then the wallet, then overage); refused at the cap."""
    from apps.integrations.messages import address_check
    from apps.messaging.contacts import address_normalise

    address_check(channel=channel, to=to)
    address_normalise(channel=channel, address=to)
    billed = channel in KIND_METRIC
    if billed:
        usage_require(kind=channel)
    delivery = person_message_send(channel=channel, to=to, body=body, subject=subject, purpose=purpose,
                                   conversation=conversation, language=getattr(conversation, "language", "") or "")
    if billed:
        usage_record(kind=channel, quantity=1, key=f"delivery:{delivery.pk}")
    return delivery


# --- the client's messaging settings and WhatsApp templates (dashboard; owner or admin, audited) -----------------

CONTENT_SID_RE = re.compile(r"^HX[0-9a-fA-F]{32}$")
VARIABLE_RE = re.compile(r"^[a-z_]{1,20}$")
TEMPLATE_VARIABLES = ("name", "business", "date", "time", "reference")


def _require_manager(*, client: Any, actor: Any) -> None:
    from apps.messaging.campaigns import _require_manager as require

    require(client=client, actor=actor)


def _time(value: str, label: str) -> time:
    try:
        return time.fromisoformat((value or "").strip()[:5])
    except ValueError:
        raise InvalidInput(_("%(field)s must be a time such as 21:00.") % {"field": label}) from None


def messaging_settings_update(*, client: Any, actor: Any, quiet_start: str, quiet_end: str, reopen_hours: str,
                              ip: str | None = None) -> MessagingSettings:
    """Quiet hours (no reminder or campaign message between them; equal times: none) and the reply window."""
    from apps.messaging.campaigns import _bounded
    from apps.messaging.notices import messaging_settings

    _require_manager(client=client, actor=actor)
    start, end = _time(quiet_start, _("Quiet hours from")), _time(quiet_end, _("Quiet hours until"))
    hours = _bounded(reopen_hours, low=1, high=24 * 30, default=24, label=_("Reply window (hours)"))
    with transaction.atomic():
        row = messaging_settings()
        row.quiet_start, row.quiet_end, row.reopen_hours = start, end, hours
        row.save()
        audit_record(action="messaging.settings_updated", actor=actor, target="messaging", ip=ip,
                     data={"quiet_start": start.isoformat(), "quiet_end": end.isoformat(), "reopen_hours": hours})
    return row


def template_save(*, client: Any, actor: Any, name: str, purpose: str, language: str, content_sid: str,
                  variables: str = "", preview: str = "", ip: str | None = None) -> WhatsAppTemplate:
    """Add (or replace, by name and language) an approved WhatsApp template: its content SID (HX + 32 hex, from
    Twilio's Content Template Builder) and the names of its variables in order ({{1}}, {{2}}…)."""
    _require_manager(client=client, actor=actor)
    name = text_clean(name or "", field="name").strip()[:80]
    content_sid = (content_sid or "").strip()
    if not name:
        raise InvalidInput(_("Give the template a name."))
    if purpose not in WhatsAppTemplate.Purpose.values:
        raise InvalidInput(_("Choose what the template is used for."))
    if language not in ("fr", "en", "es", "ar", "ary"):
        raise InvalidInput(_("Unknown language: choose fr, en, es, ar or ary."))
    if not CONTENT_SID_RE.match(content_sid):
        raise InvalidInput(_("A content SID is HX followed by 32 letters and digits."))
    names = [part.strip() for part in text_clean(variables or "", field="variables").split(",") if part.strip()]
    unknown = [part for part in names if part not in TEMPLATE_VARIABLES]
    if unknown or len(names) > 10:
        raise InvalidInput(_("Variables are taken from: %(names)s.") % {"names": ", ".join(TEMPLATE_VARIABLES)})
    with transaction.atomic():
        template, _created = WhatsAppTemplate.objects.update_or_create(
            name=name, language=language, defaults={"purpose": purpose, "content_sid": content_sid,
                                                    "variables": names, "enabled": True,
                                                    "preview": text_clean(preview or "", field="preview")[:1000]})
        audit_record(action="messaging.template_saved", actor=actor, target=f"template:{template.pk}", ip=ip,
                     data={"name": name, "purpose": purpose, "language": language})
    return template


def template_delete(*, client: Any, actor: Any, template_id: Any, ip: str | None = None) -> None:
    _require_manager(client=client, actor=actor)
    try:
        pk = int(template_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with transaction.atomic():
        template = WhatsAppTemplate.objects.filter(pk=pk).first() if 0 < pk < 2**63 else None
        if template is None:
            raise NotFound(_("No such template."))
        if template.campaign_set.exclude(status="done").exists():
            raise InvalidInput(_("A campaign still uses this template."))
        template.delete()
        audit_record(action="messaging.template_deleted", actor=actor, target=f"template:{pk}", ip=ip, data={})
