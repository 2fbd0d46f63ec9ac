"""Widget reads: the agent a widget speaks with, the language of a conversation, the conversation a token names.

Run inside the client's schema (`tenant_context`)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from apps.agents.models import LANGUAGE_CODES, Agent
from apps.clients.models import Client
from apps.conversations.models import Conversation
from apps.core.errors import ClientUnavailable, NotAuthenticated
from apps.widget.models import WidgetSettings
from apps.widget.tokens import token_read


def widget_agent(settings_row: WidgetSettings) -> Agent:
    agents = Agent.objects.filter(status=Agent.Status.ACTIVE)
    agent = agents.filter(pk=settings_row.agent_id).first() if settings_row.agent_id else None
    agent = agent or agents.order_by("id").first()
    if agent is None:
        raise ClientUnavailable(_("This business has no active agent yet."))
    return agent


def widget_language(client: Client, settings_row: WidgetSettings, asked: str, agent: Agent) -> str:
    offered = [code for code in (settings_row.languages or LANGUAGE_CODES) if code in agent.languages] or \
        agent.languages
    if asked in offered:
        return asked
    return client.default_language if client.default_language in offered else offered[0]


def conversation_from_token(client: Client, raw_token: str) -> Conversation:
    """The conversation a widget token names, inside the current client schema; else NotAuthenticated."""
    token = token_read(raw_token)
    conversation = None
    if token is not None and token.client_id == client.pk:
        conversation = Conversation.objects.select_related("agent").filter(pk=token.conversation_id).first()
    if conversation is None:
        raise NotAuthenticated(_("The conversation token is missing, invalid or expired: start a new conversation."))
    return conversation
