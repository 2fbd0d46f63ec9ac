"""The dashboard's live socket, for members only: usage against quotas and the latest activity, and the inbox's
events (a new conversation or message, an assignment, a takeover), with the member's unread badge.

Every dashboard page opens it (static/dashboard/live.js). It joins the client's inbox group on the channel layer
(apps/conversations/live.py) and marks the member present (so an assignee with a dashboard open is notified here
rather than by e-mail); the page's heartbeat every 30 s keeps the mark fresh."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.audit.selectors import audit_recent
from apps.clients.entitlements import client_quotas
from apps.clients.selectors import membership_for
from apps.conversations.live import inbox_group, presence_leave, presence_touch
from apps.conversations.selectors import inbox_unread_count
from apps.core.channels_tenancy import CLOSE_FORBIDDEN, ClientConsumer
from apps.core.errors import InvalidInput


def _snapshot(client: Any) -> dict[str, Any]:
    return {
        "type": "snapshot",
        "client": client.slug,
        "quotas": [{"quota": q.quota, "used": q.used, "limit": q.limit, "percent": q.percent}
                   for q in client_quotas(client)],
        "activity": [{"action": e.action, "actor": e.actor_email, "target": e.target, "at": e.created.isoformat()}
                     for e in audit_recent(limit=10)],
    }


def _may_enter(client: Any, user: Any) -> bool:
    return membership_for(user=user, client=client) is not None


class DashboardLiveConsumer(ClientConsumer):
    group = ""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self.db(_may_enter, self.client, user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user_id = user.pk
        self.group = inbox_group(self.client.schema_name)
        await self.channel_layer.group_add(self.group, self.channel_name)
        presence_touch(schema=self.client.schema_name, user_id=self.user_id, socket=self.channel_name)
        await self.accept()
        await self.send_json(await self.db(_snapshot, self.client))

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            presence_leave(schema=self.client.schema_name, user_id=self.user_id, socket=self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind not in ("refresh", "ping"):
            raise InvalidInput(_("Unknown message type."))
        presence_touch(schema=self.client.schema_name, user_id=self.user_id, socket=self.channel_name)
        if kind == "refresh":
            await self.send_json(await self.db(_snapshot, self.client))

    async def inbox_event(self, event: dict[str, Any]) -> None:
        """An event of this client's inbox: ids and kinds only (the page fetches what it shows)."""
        if event.get("event") == "notify" and event.get("user") != self.user_id:
            return  # a notification is for its member only
        unread = await self.db(inbox_unread_count, user_id=self.user_id)
        await self.send_json({"type": "inbox", **{key: value for key, value in event.items() if key != "type"},
                              "unread": unread})
