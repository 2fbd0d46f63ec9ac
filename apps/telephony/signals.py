"""Cache invalidation: a number's route copies its row and its client's, so it goes when either changes."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from apps.clients.models import Client, Plan
from apps.core.platform_cache import cache_delete_many
from apps.telephony.models import PhoneNumber


def _entries(numbers: list[str]) -> list[tuple[object, ...]]:
    return [("number", e164) for e164 in numbers]


@receiver(pre_save, sender=PhoneNumber)
def number_renamed(sender: Any, instance: PhoneNumber, **kwargs: Any) -> None:
    if instance.pk:
        old = PhoneNumber.objects.filter(pk=instance.pk).values_list("e164", flat=True).first()
        if old and old != instance.e164:
            cache_delete_many(_entries([old]))


@receiver([post_save, post_delete], sender=PhoneNumber)
def number_changed(sender: Any, instance: PhoneNumber, **kwargs: Any) -> None:
    cache_delete_many(_entries([instance.e164]))


@receiver([post_save, post_delete], sender=Client)
def client_changed(sender: Any, instance: Client, **kwargs: Any) -> None:
    cache_delete_many(_entries(list(PhoneNumber.objects.filter(client_id=instance.pk)
                                    .values_list("e164", flat=True))))


@receiver([post_save, post_delete], sender=Plan)
def plan_changed(sender: Any, instance: Plan, **kwargs: Any) -> None:
    cache_delete_many(_entries(list(PhoneNumber.objects.filter(client__plan=instance)
                                    .values_list("e164", flat=True))))
