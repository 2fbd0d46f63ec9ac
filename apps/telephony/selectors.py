"""Reads: which client and agent a phone number routes to (public schema, cached).

`number_route(e164)` is what every Twilio webhook and socket asks first (calls, SMS, WhatsApp): it runs
before any schema is chosen, is cached in Redis (apps.core.platform_cache) and invalidated by
apps.telephony.signals whenever the number, its client or the client's plan changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.clients.models import Client
from apps.core.errors import NotFound
from apps.core.platform_cache import MISSING, cache_get, cache_set
from apps.telephony.models import PhoneNumber

E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def e164_clean(value: str) -> str:
    """'+33 1 23-45' → '+33123…'; 'whatsapp:+212…' → '+212…'; '' when it is not an E.164 number."""
    text = (value or "").strip()
    if text.lower().startswith("whatsapp:"):
        text = text[len("whatsapp:"):]
    text = re.sub(r"[\s().-]", "", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    return text if E164_RE.match(text) else ""


@dataclass(frozen=True)
class NumberRoute:
    number_id: int
    e164: str
    client: Client | None  # None: the number is the agency's, assigned to nobody
    agent_id: int | None
    provider: str  # the telephony registry name that owns the number ("twilio", "memory")
    account_source: str  # PhoneNumber.Source
    account_sid: str
    voice: bool
    sms: bool
    whatsapp: bool

    @property
    def schema_name(self) -> str:
        return self.client.schema_name if self.client is not None else ""

    @property
    def client_active(self) -> bool:
        return self.client is not None and self.client.status == Client.Status.ACTIVE


def number_route(e164: str) -> NumberRoute | None:
    """The route for a number we hold (active or unassigned), or None (unknown, released, malformed)."""
    e164 = e164_clean(e164)
    if not e164:
        return None
    cached: Any = cache_get("number", e164)
    if cached is not MISSING:
        return cached
    row = (PhoneNumber.objects.select_related("client", "client__plan")
           .filter(e164=e164).exclude(status=PhoneNumber.Status.RELEASED).first())
    route = None
    if row is not None:
        client = row.client if row.status == PhoneNumber.Status.ACTIVE else None
        route = NumberRoute(number_id=row.pk, e164=row.e164, client=client,
                            agent_id=row.agent_id if client is not None else None, provider=row.provider,
                            account_source=row.account_source, account_sid=row.account_sid, voice=row.voice,
                            sms=row.sms, whatsapp=row.whatsapp)
    cache_set(route, "number", e164)
    return route


def client_numbers(*, client: Client) -> list[PhoneNumber]:
    return list(PhoneNumber.objects.filter(client=client).exclude(status=PhoneNumber.Status.RELEASED))


def client_numbers_list(*, client: Client, agent_id: int | None = None) -> QuerySet[PhoneNumber]:
    """The client's numbers (released ones left out), for the REST API's cursor pagination."""
    rows = PhoneNumber.objects.filter(client=client).exclude(status=PhoneNumber.Status.RELEASED)
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    return rows


def client_number_get(*, client: Client, number_id: int) -> PhoneNumber:
    """One of the client's numbers, or NotFound (another client's, a released one, none)."""
    number = client_numbers_list(client=client).filter(pk=number_id).first()
    if number is None:
        raise NotFound(_("No phone number with this id."))
    return number


def agents_of_client(*, client: Client) -> list[tuple[int, str]]:
    """(id, name) of the client's agents, read in its own schema (the admin's agent choices)."""
    from django_tenants.utils import tenant_context

    from apps.agents.models import Agent

    with tenant_context(client):
        return list(Agent.objects.order_by("name", "id").values_list("id", "name"))
