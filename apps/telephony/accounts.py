"""Which Twilio account a number lives in, as a provider to talk to it.

Three accounts (PhoneNumber.Source), chosen by agency staff when they search, buy or import numbers:

- **agency** — the agency's own account (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN); without them, the offline twin,
  whose numbers are stored as `twin` (built-in test numbers);
- **subaccount** — the client's subaccount of the agency's account (`client_subaccount_ensure` creates it; the
  parent's credentials reach it, its own token signs its numbers' webhooks); a twin subaccount when offline;
- **client** — the client's own Twilio account, connected by its owner on the Integrations page.

Reads only (the provider objects it builds never touch the ORM); writes are in apps.telephony.services.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.clients.models import Client
from apps.core.errors import InvalidInput, VocaliaError
from apps.integrations.registry import PROVIDERS, TWINS, provider_class
from apps.telephony.models import PhoneNumber, TwilioSubaccount

CHOICES = (PhoneNumber.Source.AGENCY, PhoneNumber.Source.SUBACCOUNT, PhoneNumber.Source.CLIENT)


@dataclass(frozen=True)
class NumberAccount:
    provider: Any  # apps.integrations.telephony.base.Telephony
    source: str  # PhoneNumber.Source, as numbers bought through it are stored
    account_sid: str  # the account (or subaccount) that owns those numbers; "" for the twin

    @property
    def offline(self) -> bool:
        return self.provider.name == TWINS["telephony"]


def twin_provider() -> Any:
    return provider_class("telephony", TWINS["telephony"]).from_settings({})


def agency_provider() -> Any | None:
    """The agency's own telephony provider (environment), or None when none is configured."""
    from apps.telephony.webhooks import _agency

    return _agency()


def subaccount_provider(subaccount: TwilioSubaccount) -> Any | None:
    """The provider that reaches a client's subaccount (None: the agency's Twilio account is gone)."""
    if subaccount.provider == TWINS["telephony"]:
        return twin_provider()
    agency = agency_provider()
    if agency is None or agency.name != subaccount.provider:
        return None
    return provider_class("telephony", subaccount.provider)(  # the token is not a settings field: built directly
        account_sid=agency.account_sid, auth_token=agency.auth_token, subaccount_sid=subaccount.account_sid,
        subaccount_token=subaccount.auth_token)


def subaccount_provider_by_sid(account_sid: str) -> Any | None:
    subaccount = TwilioSubaccount.objects.filter(account_sid=account_sid).first() if account_sid else None
    return subaccount_provider(subaccount) if subaccount is not None else None


def client_own_provider(client: Client) -> Any | None:
    """The client's own account from its Integrations page (enabled, a telephony provider that is not the twin)."""
    from apps.integrations.models import ConnectedAccount

    with tenant_context(client):
        account = (ConnectedAccount.objects.filter(kind="telephony", enabled=True)
                   .exclude(provider=TWINS["telephony"]).first())
        if account is None or account.provider not in PROVIDERS["telephony"]:
            return None
        values = account.credentials
    try:
        return provider_class("telephony", account.provider).from_settings(values)
    except VocaliaError:
        return None


def account_for(*, source: str, client: Client | None) -> NumberAccount:
    """The account staff chose (`source`, one of CHOICES) for `client`, or InvalidInput saying what is missing."""
    if source == PhoneNumber.Source.AGENCY:
        agency = agency_provider()
        if agency is None:
            return NumberAccount(provider=twin_provider(), source=PhoneNumber.Source.TWIN, account_sid="")
        return NumberAccount(provider=agency, source=source, account_sid=getattr(agency, "owner_sid", ""))
    if source not in CHOICES:
        raise InvalidInput(_("Choose the agency's account, the client's subaccount or the client's own account."),
                           param="account")
    if client is None:
        raise InvalidInput(_("Choose the client whose account it is."), param="client")
    if source == PhoneNumber.Source.SUBACCOUNT:
        subaccount = TwilioSubaccount.objects.filter(client=client).first()
        if subaccount is None:
            raise InvalidInput(_("This client has no Twilio subaccount yet: create it first."), param="account")
        provider = subaccount_provider(subaccount)
        if provider is None:
            raise InvalidInput(_("The agency's Twilio account is not configured: its subaccounts cannot be reached."),
                               param="account")
        return NumberAccount(provider=provider, source=source, account_sid=subaccount.account_sid)
    provider = client_own_provider(client)
    if provider is None:
        raise InvalidInput(_("This client has not connected its own Twilio account on its Integrations page."),
                           param="account")
    return NumberAccount(provider=provider, source=source, account_sid=getattr(provider, "owner_sid", ""))


def account_of_number(number: PhoneNumber) -> Any | None:
    """The provider of the account holding `number` (to point its URLs at us), or None when it cannot be reached."""
    if number.provider == TWINS["telephony"]:
        return twin_provider()
    if number.account_source == PhoneNumber.Source.SUBACCOUNT:
        return subaccount_provider_by_sid(number.account_sid)
    if number.account_source == PhoneNumber.Source.CLIENT:
        return client_own_provider(number.client) if number.client is not None else None
    agency = agency_provider()
    return agency if agency is not None and agency.name == number.provider else None
