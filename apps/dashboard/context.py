"""What every dashboard page knows: the client, the visitor's role, the navigation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# (url name, section slug for upcoming pages or None, label, icon)
NAVIGATION = [
    ("home", None, _("Home"), "home"),
    ("agents", None, _("Agents"), "bot"),
    ("knowledge", None, _("Knowledge base"), "book"),
    ("conversations", None, _("Conversations"), "chat"),
    ("leads", None, _("Leads"), "star"),
    ("appointments", None, _("Appointments"), "calendar"),
    ("tickets", None, _("Tickets"), "ticket"),
    ("outbox", None, _("Outbox"), "send"),
    ("install", None, _("Install widget"), "code"),
    ("team", None, _("Team"), "users"),
    ("keys", None, _("API keys"), "key"),
    ("settings", None, _("Settings"), "gear"),
]
UPCOMING = {section: label for _name, section, label, _icon in NAVIGATION if section}


def _navigation(path: str) -> list[dict[str, Any]]:
    items = []
    for url_name, section, label, icon in NAVIGATION:
        url = reverse(url_name, args=[section] if section else [])
        active = path == url or (url != "/" and path.startswith(url))
        items.append({"url": url, "label": label, "icon": icon, "soon": bool(section), "active": active})
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
