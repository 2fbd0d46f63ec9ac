"""The dashboard home's usage cards count the client's real rows, and say what they count."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from apps.clients.demo import CLIENTS
from apps.clients.management.commands.demo_data import _conversations
from apps.conversations.services import conversation_start
from apps.knowledge.models import Document
from apps.usage.services import month_start
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent

pytestmark = pytest.mark.django_db


def cards(page: str) -> dict[str, tuple[str, int, int]]:
    """{quota: (label, used, limit)} from the home page's usage cards."""
    found = re.findall(r'data-quota="(\w+)">\s*<div class="muted" data-label>([^<]+)</div>\s*'
                       r'<div class="stat"><span data-used>([\d,]+)</span> <span class="muted">/ ([\d,]+)</span>', page)
    return {quota: (label, int(used.replace(",", "")), int(limit.replace(",", ""))) for quota, label, used, limit
            in found}


def conversation_rows(page: str) -> int:
    return len(re.findall(r'<tr><td><a href="/conversations/\d+/">', page))


def test_it_counts_documents_domains_and_this_months_conversations(cast, as_user):
    agent = make_agent(cast.client_a)
    with tenant_context(cast.client_a):
        for _n in range(3):
            conversation_start(agent=agent, channel="widget_text", language="en")
        Document.objects.create(title="Prices", kind="text", raw_text="Cleaning: 60 EUR")
        Document.objects.create(title="Opening hours", kind="text", raw_text="9-18", status="failed")
    widget_origins_set(client=cast.client_a, origins=["https://shop.example", "https://www.shop.example"])

    alice = as_user(cast.alice, cast.client_a)
    home = alice.get("/").content.decode()
    assert cards(home) == {
        "monthly_conversations": ("Conversations started this month", 3, 2000),
        "voice_minutes": ("Voice minutes this month", 0, 300),
        "knowledge_documents": ("Documents in the knowledge base", 2, 100),
        "allowed_origins": ("Allowed website domains", 2, 5),
    }
    link = f"/conversations/?from={month_start().isoformat()}"
    assert f'<a href="{link}">' in home
    assert conversation_rows(alice.get(link).content.decode()) == 3
    assert conversation_rows(alice.get("/conversations/").content.decode()) == 3

    carol_home = as_user(cast.carol, cast.client_b).get("/").content.decode()  # B counts only its own rows
    assert {quota: used for quota, (_label, used, _limit) in cards(carol_home).items()} == {
        "monthly_conversations": 0, "voice_minutes": 0, "knowledge_documents": 0, "allowed_origins": 0}


def test_it_fills_the_demo_with_conversations_the_list_shows(cast, as_user):
    agent = make_agent(cast.client_a)
    with tenant_context(cast.client_a):
        _conversations(agent, CLIENTS[0])
    alice = as_user(cast.alice, cast.client_a)
    used = cards(alice.get("/").content.decode())["monthly_conversations"][1]
    assert used == conversation_rows(alice.get("/conversations/").content.decode()) == 3
