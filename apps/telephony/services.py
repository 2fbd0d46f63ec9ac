"""Numbers: search, buy, import and assign them through the telephony provider of the chosen account (agency staff,
admin; apps.telephony.accounts), create a client's Twilio subaccount, and hand out twin numbers offline. Buying or
assigning a number points its voice, status and messaging URLs at us."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.clients.models import Client
from apps.core.errors import InvalidInput, PermissionDenied
from apps.integrations.telephony.base import CAPABILITIES, AvailableNumber, NumberUrls, OwnedNumber
from apps.telephony.accounts import NumberAccount, account_of_number, agency_provider, twin_provider
from apps.telephony.models import PhoneNumber, TwilioSubaccount
from apps.telephony.selectors import e164_clean
from apps.telephony.webhooks import public_url

CONTAINS_RE = re.compile(r"^[0-9A-Za-z*]{1,16}$")  # Twilio's `Contains`: digits, letters (vanity), * one digit
MAX_RESULTS = 30


def _public(name: str) -> str:
    """The public URL of a platform-host route (reversed in the public URLconf, whatever schema is active)."""
    return public_url(reverse(name, urlconf=settings.PUBLIC_SCHEMA_URLCONF))


def number_urls() -> NumberUrls:
    try:
        sms = _public("messaging-twilio-sms")  # the messaging app's inbound SMS webhook, if installed
    except Exception:  # noqa: BLE001 - NoReverseMatch: no SMS webhook in this build
        sms = ""
    return NumberUrls(voice_url=_public("telephony-voice"), status_callback=_public("telephony-status"), sms_url=sms)


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


def _refuse_nul(value: str, param: str) -> str:
    if not isinstance(value, str) or "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise InvalidInput(_("The field “%(field)s” contains characters that are not valid text.")
                           % {"field": param}, param=param)
    return value.strip()


def country_clean(value: str) -> str:
    """An ISO 3166 alpha-2 country that has phone numbers ("fr" → "FR"), or InvalidInput."""
    country = _refuse_nul(value, "country").upper()
    if not (len(country) == 2 and country.isascii() and country in phonenumbers.SUPPORTED_REGIONS):
        raise InvalidInput(_("Enter a two-letter country code, like FR, MA or US."), param="country")
    return country


def agent_check(*, client: Client, agent_id: int | None) -> int | None:
    """`agent_id` if it is one of `client`'s agents (read in its own schema), else InvalidInput."""
    from apps.agents.models import Agent

    if agent_id is None:
        return None
    if not isinstance(agent_id, int) or isinstance(agent_id, bool) or not 0 < agent_id < 2**31:
        raise InvalidInput(_("This agent is not one of the client's agents."), param="agent")
    with tenant_context(client):
        if not Agent.objects.filter(pk=agent_id).exists():
            raise InvalidInput(_("This agent is not one of the client's agents."), param="agent")
    return agent_id


def numbers_search(*, account: NumberAccount, country: str, contains: str = "",
                   capabilities: tuple[str, ...] = ("voice",), actor: Any, limit: int = MAX_RESULTS
                   ) -> list[AvailableNumber]:
    """Local numbers for sale on `account` (agency staff only): `country` ISO alpha-2, `contains` digits or
    letters (Twilio's pattern, `*` one digit), every one of `capabilities`."""
    _staff(actor)
    country = country_clean(country)
    contains = _refuse_nul(contains, "contains").replace(" ", "").lstrip("+")
    if contains and not CONTAINS_RE.match(contains):
        raise InvalidInput(_("“Contains” takes 1 to 16 digits or letters (* stands for any digit)."),
                           param="contains")
    if set(capabilities) - set(CAPABILITIES):
        raise InvalidInput(_("Unknown capability."), param="capabilities")
    wanted = tuple(capability for capability in CAPABILITIES if capability in capabilities) or ("voice",)
    found = account.provider.numbers_search(country=country, contains=contains, capabilities=wanted,
                                            limit=max(1, min(limit, MAX_RESULTS)))
    held = set(PhoneNumber.objects.filter(e164__in=[row.e164 for row in found])
               .exclude(status=PhoneNumber.Status.RELEASED).values_list("e164", flat=True))
    return [row for row in found if row.e164 not in held]  # the twin forgets its sales on restart: we do not


def number_buy(*, account: NumberAccount, e164: str, actor: Any, client: Client | None = None,
               agent_id: int | None = None) -> PhoneNumber:
    """Buy `e164` on `account`, its URLs pointed at us; stored, and assigned to `client` (and one of its agents)
    when given. An agent of another client is refused before anything is bought."""
    _staff(actor)
    e164 = e164_clean(_refuse_nul(e164, "number"))
    if not e164:
        raise InvalidInput(_("Enter the number in international format, like +33159000000."), param="number")
    if client is None and agent_id is not None:
        raise InvalidInput(_("Choose the client before its agent."), param="client")
    if client is not None:
        agent_check(client=client, agent_id=agent_id)
    if PhoneNumber.objects.filter(e164=e164).exclude(status=PhoneNumber.Status.RELEASED).exists():
        raise InvalidInput(_("This number is already on the platform."), param="number")
    owned = account.provider.number_buy(e164=e164, urls=number_urls())
    number = number_store(owned=owned, provider=account.provider.name, source=account.source,
                          account_sid=account.account_sid, client=client, agent_id=agent_id, actor=actor)
    _audit(client, action="phone_number.bought", actor=actor, target=e164,
           data={"account": account.source, "agent": agent_id})
    return number


def numbers_import(*, account: NumberAccount, actor: Any, client: Client | None = None) -> list[PhoneNumber]:
    """The numbers `account` already owns, stored; a number we know keeps its client and agent, a new one goes to
    `client` when given (a client's own account or subaccount), else stays unassigned."""
    _staff(actor)
    stored = []
    for owned in account.provider.numbers_owned():
        known = PhoneNumber.objects.filter(e164=e164_clean(owned.e164)).first()
        if not e164_clean(owned.e164):
            continue  # a short code or a malformed row: not a number we can route
        keep = known is not None and known.client is not None and known.status != PhoneNumber.Status.RELEASED
        stored.append(number_store(owned=owned, provider=account.provider.name, source=account.source,
                                   account_sid=account.account_sid,
                                   client=known.client if keep and known else client,
                                   agent_id=known.agent_id if keep and known else None, actor=actor))
    return stored


@transaction.atomic
def number_assign(*, number: PhoneNumber, client: Client | None, agent_id: int | None, actor: Any,
                  provider: Any = None) -> PhoneNumber:
    """Give the number to a client and one of ITS agents (another client's agent id is refused), or to nobody
    (client None): its voice, status and SMS URLs are pointed at us through the account that holds it."""
    _staff(actor)
    if client is None and agent_id is not None:
        raise InvalidInput(_("Choose the client before its agent."), param="client")
    if client is not None:
        agent_check(client=client, agent_id=agent_id)
    if number.account_source == PhoneNumber.Source.CLIENT and number.client_id is not None and client is not None \
            and client.pk != number.client_id:
        raise InvalidInput(_("This number is in its client's own Twilio account: it cannot go to another client."),
                           param="client")
    provider = provider if provider is not None else account_of_number(number)
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


def client_subaccount_ensure(*, client: Client, actor: Any) -> TwilioSubaccount:
    """The client's subaccount of the agency's Twilio account, created on first call (the twin's when the agency has
    no Twilio keys). Its token is stored encrypted; creating it again returns the same one."""
    _staff(actor)
    existing = TwilioSubaccount.objects.filter(client=client).first()
    if existing is not None:
        return existing
    parent = agency_provider() or twin_provider()
    if not hasattr(parent, "subaccount_create"):
        raise InvalidInput(_("The agency's telephony provider has no subaccounts."), param="account")
    created = parent.subaccount_create(friendly_name=f"Vocalia — {client.name}"[:64])
    with transaction.atomic():
        subaccount, _created = TwilioSubaccount.objects.get_or_create(client=client, defaults={
            "provider": parent.name, "account_sid": created.sid, "auth_token": created.auth_token,
            "friendly_name": created.friendly_name[:64]})
    _audit(client, action="telephony.subaccount_created", actor=actor, target=subaccount.account_sid,
           data={"provider": parent.name})
    return subaccount
