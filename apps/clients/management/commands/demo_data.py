"""Demo data for `make run`: an agency staff member and two clients with an owner each. Safe to re-run."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.agents.configurator import BusinessInfo, agent_create_from_draft, configure
from apps.agents.models import Agent
from apps.clients import services
from apps.clients.demo import (
    BILLING,
    CLIENTS,
    CONVERSATIONS,
    DEMO_SITE_ORIGINS,
    PASSWORD,
    PHONE_NUMBERS,
    STAFF_EMAIL,
    STAFF_TOTP_SECRET,
)
from apps.clients.models import Client, Membership, Plan
from apps.clients.plans import plans_sync
from apps.conversations.models import Conversation
from apps.conversations.services import conversation_set_outcome, conversation_start, message_add
from apps.telephony.services import number_twin_give
from apps.widget.services import widget_origins_set, widget_settings


def _user(email: str, *, staff: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=PASSWORD, is_staff=staff, is_superuser=staff)
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _conversations(agent: Agent, spec: dict[str, Any]) -> None:
    """Real rows through the real services, so every counter of the dashboard counts something that exists."""
    for channel, outcome, lines in CONVERSATIONS[spec["slug"]]:
        conversation = conversation_start(agent=agent, channel=channel, language=spec["language"])
        for role, text in lines:
            message_add(conversation=conversation, role=role, text=text)
        conversation_set_outcome(conversation=conversation, outcome=outcome)


class Command(BaseCommand):
    help = "Create the demo staff user and demo clients (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        plans_sync(Plan)
        staff = _user(STAFF_EMAIL, staff=True)
        if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(staff, STAFF_TOTP_SECRET)
        for spec in CLIENTS:
            owner = _user(spec["owner"])
            client = Client.objects.filter(slug=spec["slug"]).first()
            if client is None:
                client = services.client_create(
                    name=spec["name"], slug=spec["slug"], plan=Plan.objects.get(code=spec["plan"]),
                    owner_email=spec["owner"], default_language=spec["language"], timezone_name=spec["timezone"],
                    currency=spec["currency"], sector=spec["sector"], provision=False,
                )
            if client.status != Client.Status.ACTIVE:
                client = services.client_provision(client_id=client.pk)
            Membership.objects.get_or_create(user=owner, client=client, defaults={"role": Membership.Role.OWNER})
            settings_row = widget_settings(client)
            if not settings_row.allowed_origins:  # the demo site of `make site`
                widget_origins_set(client=client, origins=list(DEMO_SITE_ORIGINS))
            with tenant_context(client):
                if not Agent.objects.exists():
                    draft = configure(BusinessInfo(name=spec["name"], language=spec["language"], **spec["business"]))
                    # the demo shows every flow: the sector's tools plus lead qualification and tickets
                    tools = [tool["name"] for tool in draft.tools]
                    tools += [name for name in ("qualify_lead", "create_ticket") if name not in tools]
                    agent_create_from_draft(draft=draft, languages=draft.languages, tools=tools)
                if not Conversation.objects.exists():
                    _conversations(Agent.objects.order_by("id").first(), spec)
                first_agent = Agent.objects.order_by("id").first()
                if not first_agent.handover_phone:  # "ask for a human" is put through to the front desk
                    first_agent.handover_phone = spec["business"]["phone"].replace(" ", "")
                    first_agent.save(update_fields=["handover_phone"])
            number_twin_give(client=client, e164=PHONE_NUMBERS[spec["slug"]], agent_id=first_agent.pk)
            if spec["slug"] in BILLING:
                from apps.billing.demo import demo_billing

                demo_billing(client=client, spec=BILLING[spec["slug"]], staff=staff)
            if spec["member"]:
                member = _user(spec["member"])
                Membership.objects.get_or_create(user=member, client=client,
                                                 defaults={"role": Membership.Role.MEMBER})
        self.stdout.write(self.style.SUCCESS("demo data ready"))
