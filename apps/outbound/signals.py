"""The one seam from a call to its campaign contact: the outbound call does not know campaigns; the contact's result
follows every save of a campaign call (the few bulk UPDATEs call `recipient_follow` themselves)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.outbound.models import OutboundCall


@receiver(post_save, sender=OutboundCall, dispatch_uid="outbound.campaign_recipient_follow")
def campaign_recipient_follow(sender: Any, instance: OutboundCall, **kwargs: Any) -> None:
    if instance.campaign_recipient_id:
        from apps.outbound.campaigns import recipient_follow

        recipient_follow(call=instance)
