"""Reads for the dashboard home: each usage card counted from the client's own rows, saying what it counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django_tenants.utils import tenant_context

from apps.clients.entitlements import QuotaStatus, client_quotas, quota_status
from apps.clients.models import Client
from apps.knowledge.models import Document
from apps.usage.services import month_start
from apps.widget.services import widget_settings

# What each card counts, in words: the quota's own label names the limit ("Conversations per month").
COUNTS: dict[str, Any] = {
    "monthly_conversations": _("Conversations started this month"),
    "voice_minutes": _("Voice minutes this month"),
    "knowledge_documents": _("Documents in the knowledge base"),
    "allowed_origins": _("Allowed website domains"),
}


@dataclass(frozen=True)
class UsageCard:
    status: QuotaStatus
    url: str  # the page that lists what is counted ("" when there is none)

    @property
    def quota(self) -> str:
        return self.status.quota

    @property
    def label(self) -> str:
        return str(COUNTS[self.status.quota])


def knowledge_document_count(*, client: Client) -> int:
    """Every document of the client's knowledge base, whatever its state: what the upload quota counts."""
    with tenant_context(client):
        return Document.objects.count()


def allowed_origin_count(*, client: Client) -> int:
    return len(widget_settings(client).allowed_origins)


def home_usage(*, client: Client) -> list[UsageCard]:
    """The home page's cards. Conversations come from the month's meter, which every conversation_start adds to,
    so the card links to the conversations list from the first of the month: the same conversations."""
    conversations_url = f"{reverse('conversations')}?{urlencode({'from': month_start().isoformat()})}"
    urls = {"monthly_conversations": conversations_url, "voice_minutes": "",
            "knowledge_documents": reverse("knowledge"), "allowed_origins": reverse("install")}
    statuses = client_quotas(client) + [
        quota_status(client, "knowledge_documents", used=knowledge_document_count(client=client)),
        quota_status(client, "allowed_origins", used=allowed_origin_count(client=client)),
    ]
    return [UsageCard(status=status, url=urls[status.quota]) for status in statuses]
