"""Reads on agents, in the active client's schema (the REST API's and any other entry point's)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.core.errors import NotFound


def agents_list(*, status: str = "") -> QuerySet[Agent]:
    rows = Agent.objects.all()
    return rows.filter(status=status) if status else rows


def agent_get(*, agent_id: int) -> Agent:
    """The agent of the active client's schema with this id; NotFound otherwise (another client's id included)."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None:
        raise NotFound(_("No agent with this id."))
    return agent
