"""Numbers: buy, import and assign them through the telephony provider (agency staff, admin), and hand out
twin numbers offline. Assigning a number points its voice, status and messaging URLs at us."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.core.errors import InvalidInput, PermissionDenied
from apps.integrations.telephony.base import NumberUrls, OwnedNumber
from apps.telephony.models import PhoneNumber
from apps.telephony.selectors import e164_clean
from apps.telephony.webhooks import public_url


def number_urls() -> NumberUrls:
    sms = ""
    try:
        sms = public_url(reverse("messaging-twilio-sms"))  # the messaging app's inbound SMS webhook, if installed
    except Exception:  # noqa: BLE001 - NoReverseMatch: no SMS webhook in this build
        sms = ""
    return NumberUrls(voice_url=public_url(reverse("telephony-voice")),
                      status_callback=public_url(reverse("telephony-status")), sms_url=sms)


def _audit(client: Client | None, **fields: Any) -> None:
    """The client's audit trail records what staff did with its numbers (a number of nobody's: no trail)."""
    if client is not None:
        with tenant_context(client):
            audit_record(**fields)


def _staff(actor: Any) -> None:
    if actor is not None and not getattr(actor, "is_staff", False):
        raise PermissionDenied()


@transaction.atomic
def number_store(*, owned: OwnedNumber, provider: str, source: str, account_sid: str = "",
                 client: Client | None = None, agent_id: int | None = None, actor: Any = None) -> PhoneNumber:
    _staff(actor)
    e164 = e164_clean(owned.e164)
    if not e164:
        raise InvalidInput("not an E.164 number")
    number, _created = PhoneNumber.objects.update_or_create(e164=e164, defaults={
        "provider": provider, "provider_sid": owned.sid, "account_source": source, "account_sid": account_sid,
        "friendly_name": owned.friendly_name[:80], "voice": owned.capabilities.get("voice", True),
        "sms": owned.capabilities.get("sms", False), "client": client, "agent_id": agent_id,
        "status": PhoneNumber.Status.ACTIVE if client is not None else PhoneNumber.Status.UNASSIGNED})
    _audit(client, action="phone_number.stored", actor=actor, target=e164, data={"provider": provider})
    return number


def number_buy(*, provider: Any, e164: str, actor: Any, client: Client | None = None,
               source: str = PhoneNumber.Source.AGENCY) -> PhoneNumber:
    """Buy `e164` on the provider's account, pointed at us; stored (assigned if `client`)."""
    _staff(actor)
    owned = provider.number_buy(e164=e164, urls=number_urls())
    return number_store(owned=owned, provider=provider.name, source=source,
                        account_sid=getattr(provider, "owner_sid", ""), client=client, actor=actor)


def numbers_import(*, provider: Any, actor: Any, source: str = PhoneNumber.Source.AGENCY) -> list[PhoneNumber]:
    """The numbers the account already owns, stored unassigned (those we know keep their client)."""
    _staff(actor)
    stored = []
    for owned in provider.numbers_owned():
        known = PhoneNumber.objects.filter(e164=e164_clean(owned.e164)).first()
        stored.append(number_store(owned=owned, provider=provider.name, source=source,
                                   account_sid=getattr(provider, "owner_sid", ""),
                                   client=known.client if known else None, agent_id=known.agent_id if known else None,
                                   actor=actor))
    return stored


@transaction.atomic
def number_assign(*, number: PhoneNumber, client: Client | None, agent_id: int | None, actor: Any,
                  provider: Any = None) -> PhoneNumber:
    """Give the number to a client (and one of its agents): its voice, status and SMS URLs point at us."""
    _staff(actor)
    if provider is not None and number.provider_sid:
        provider.number_configure(sid=number.provider_sid, urls=number_urls())
    number.client, number.agent_id = client, agent_id if client is not None else None
    number.status = PhoneNumber.Status.ACTIVE if client is not None else PhoneNumber.Status.UNASSIGNED
    number.save(update_fields=["client", "agent_id", "status", "updated"])
    _audit(client, action="phone_number.assigned", actor=actor, target=number.e164, data={"agent": agent_id})
    return number


def number_twin_give(*, client: Client, e164: str, agent_id: int | None = None) -> PhoneNumber:
    """A built-in test number for `client` (the demo's, the simulator's): answers through the twin."""
    number, _created = PhoneNumber.objects.update_or_create(e164=e164_clean(e164), defaults={
        "client": client, "agent_id": agent_id, "provider": "memory", "account_source": PhoneNumber.Source.TWIN,
        "status": PhoneNumber.Status.ACTIVE, "voice": True, "sms": True})
    return number
