"""Phone tests: two clients on the Telephony plan, an agent and a twin number each, COMMITTED (the sockets'
consumers read the database on Channels' own thread), removed afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db.models import Q
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.calls.models import Call, PhoneSettings
from apps.clients.models import Client, Plan
from apps.conversations.models import Conversation
from apps.crm.models import Callback
from apps.events.models import Event
from apps.outbound.models import OutboundCall
from apps.telephony.models import PhoneNumber
from apps.usage.models import UsageCounter, UsageRecord

NUMBER_A, NUMBER_B = "+15550100101", "+15550100202"


@dataclass
class Phones:
    client_a: Any
    client_b: Any
    agent_a: Any
    agent_b: Any
    number_a: str = NUMBER_A
    number_b: str = NUMBER_B


def _agent(client: Any, language: str, name: str) -> Agent:
    with tenant_context(client):
        return Agent.objects.create(
            name=name, languages=["fr", "en", "es", "ar", "ary"], default_language=language, tools=list(TOOLS),
            business={"business_name": name},
            texts={"fr": {"greeting": "Bonjour, {business_name}, que puis-je faire pour vous ?"},
                   "en": {"greeting": "Hello, {business_name} here, how can I help?"},
                   "ar": {"greeting": "مرحبا بكم في {business_name}"}},
            handover_phone="+33100000000")


def _clean(client: Any) -> None:
    with tenant_context(client):
        Call.objects.all().delete()
        PhoneSettings.objects.all().delete()
        Callback.objects.all().delete()
        OutboundCall.objects.all().delete()  # a busy caller's callback becomes an outbound call: committed here
        phone = list(Conversation.objects.filter(channel=Conversation.Channel.PHONE).values_list("id", flat=True))
        # the committed phone conversations' events (later tests count this schema's events)
        Event.objects.filter(Q(data__conversation_id__in=phone) | Q(type__startswith="callback.")
                             | Q(type__startswith="conversation.", data__id__in=phone)).delete()
        Conversation.objects.filter(channel=Conversation.Channel.PHONE).delete()
        Agent.objects.filter(name__startswith="Phone ").delete()
        UsageCounter.objects.filter(metric="voice_minutes").delete()
        UsageRecord.objects.filter(metric="voice_minutes").delete()
        Event.objects.filter(type__startswith="call.").delete()
        Event.objects.filter(type="recording.ready").delete()


@pytest.fixture
def phones(session_cast: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        telephony = Plan.objects.get(code="telephony")
        plans = {client.pk: client.plan_id for client in (session_cast.client_a, session_cast.client_b)}
        Client.objects.filter(pk__in=plans).update(plan=telephony)
        a, b = (Client.objects.select_related("plan").get(pk=pk) for pk in plans)
        for client in (a, b):
            _clean(client)
        made = Phones(client_a=a, client_b=b, agent_a=_agent(a, "fr", "Phone Alpha"),
                      agent_b=_agent(b, "en", "Phone Bravo"))
        PhoneNumber.objects.create(e164=NUMBER_A, client=a, agent_id=made.agent_a.pk)
        PhoneNumber.objects.create(e164=NUMBER_B, client=b, agent_id=made.agent_b.pk)
        yield made
        PhoneNumber.objects.filter(e164__in=[NUMBER_A, NUMBER_B]).delete()
        for client in (a, b):
            _clean(client)
        for pk, plan_id in plans.items():
            Client.objects.filter(pk=pk).update(plan_id=plan_id, status=Client.Status.ACTIVE)


def calls_of(client: Any) -> list[Call]:
    with tenant_context(client):
        return list(Call.objects.select_related("conversation").order_by("id"))
