"""The cached webhook routes (apps/events/routes.py) are forgotten whenever an endpoint is saved or deleted."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.events.models import WebhookEndpoint
from apps.events.routes import routes_forget


@receiver([post_save, post_delete], sender=WebhookEndpoint)
def endpoint_changed(sender: Any, instance: WebhookEndpoint, **kwargs: Any) -> None:
    routes_forget()
