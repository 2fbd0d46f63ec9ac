"""The dashboard's live socket: usage against quotas and the latest activity, for members only."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.audit.selectors import audit_recent
from apps.clients.entitlements import client_quotas
from apps.clients.selectors import membership_for
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
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self.db(_may_enter, self.client, user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.send_json(await self.db(_snapshot, self.client))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "refresh":
            await self.send_json(await self.db(_snapshot, self.client))
        else:
            raise InvalidInput(_("Unknown message type."))
