"""An agent's texts and languages feed the widget's cached configuration: drop it when an agent changes."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.agents.models import Agent
from apps.core.platform_cache import cache_delete_many


@receiver([post_save, post_delete], sender=Agent)
def agent_changed(sender: Any, instance: Agent, **kwargs: Any) -> None:
    tenant = getattr(connection, "tenant", None)
    if getattr(tenant, "pk", None):
        cache_delete_many([("widget-config", tenant.pk)])
