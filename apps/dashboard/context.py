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
    ("agents", _("Agents"), "bot"),
    ("knowledge", _("Knowledge base"), "book"),
    ("conversations", _("Conversations"), "chat"),
    ("calls", _("Calls"), "phone"),
    ("leads", _("Leads"), "star"),
    ("appointments", _("Appointments"), "calendar"),
    ("tickets", _("Tickets"), "ticket"),
    ("outbox", _("Outbox"), "send"),
    ("install", _("Install widget"), "code"),
    ("integrations", _("Integrations"), "plug"),
    ("team", _("Team"), "users"),
    ("keys", _("API keys"), "key"),
    ("settings", _("Settings"), "gear"),
]


def _navigation(path: str) -> list[dict[str, Any]]:
    items = []
    for url_name, label, icon in NAVIGATION:
        url = reverse(url_name)
        active = path == url or (url != "/" and path.startswith(url))
        items.append({"url": url, "label": label, "icon": icon, "active": active})
    return items


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
        "navigation": _navigation(request.path) if client else [],
        "vocalia_languages": settings.LANGUAGES,
    }
