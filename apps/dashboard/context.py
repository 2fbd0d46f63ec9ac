"""What every dashboard page knows: the client, the visitor's role, the navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (url name, label, icon)
NAVIGATION = [
    ("home", _("Home"), "home"),
    ("inbox", _("Inbox"), "inbox"),
    ("agents", _("Agents"), "bot"),
    ("knowledge", _("Knowledge base"), "book"),
    ("conversations", _("Conversations"), "chat"),
    ("calls", _("Calls"), "phone"),
    ("leads", _("Leads"), "star"),
    ("appointments", _("Appointments"), "calendar"),
    ("tickets", _("Tickets"), "ticket"),
    ("outbound", _("Outbound calls"), "phone"),
    ("outbox", _("Outbox"), "send"),
    ("campaigns", _("Campaigns"), "send"),
    ("messaging", _("Messaging"), "chat"),
    ("install", _("Install widget"), "code"),
    ("integrations", _("Integrations"), "plug"),
    ("billing", _("Billing"), "card"),
    ("team", _("Team"), "users"),
    ("developers", _("Developers"), "key"),
    ("settings", _("Settings"), "gear"),
]


def _navigation(path: str, unread: int | None) -> list[dict[str, Any]]:
    items = []
    for url_name, label, icon in NAVIGATION:
        url = reverse(url_name)
        active = path == url or (url != "/" and path.startswith(url))
        items.append({"url": url, "label": label, "icon": icon, "active": active,
                      "badge": unread if url_name == "inbox" else None})
    return items


def _unread(request: HttpRequest, membership: Any) -> int | None:
    """The member's inbox badge (one query); None for agency staff, who are nobody's assignee."""
    if membership is None:
        return None
    from apps.conversations.selectors import inbox_unread_count

    return inbox_unread_count(user_id=membership.user_id)


def _billing_banner(client: Any, request: HttpRequest) -> dict[str, Any] | None:
    if client is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return None
    from apps.billing.selectors import billing_banner

    return billing_banner(client=client)


def dashboard(request: HttpRequest) -> dict[str, Any]:
    client = getattr(request, "client", None)
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if client is not None and user is not None and user.is_authenticated and membership is None and not getattr(
        request, "staff_access", False
    ):
        client = None  # a signed-in stranger learns nothing about this client, not even its name
    return {
        "client": client,
        "membership": membership,
        "staff_access": getattr(request, "staff_access", False),
        "can_manage": bool(getattr(request, "staff_access", False) or (membership and membership.can_manage)),
        "navigation": _navigation(request.path, _unread(request, membership)) if client else [],
        "billing_banner": _billing_banner(client, request),
        "vocalia_languages": settings.LANGUAGES,
    }
