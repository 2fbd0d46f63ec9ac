"""Cache invalidation: routing entries copy rows, so they go when the rows change."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from apps.clients.models import ApiKey, Client, Domain, Plan
from apps.core.platform_cache import cache_delete_many


def _client_entries(client_ids: list[int]) -> list[tuple[object, ...]]:
    entries: list[tuple[object, ...]] = [(name, client_id) for client_id in client_ids
                                         for name in ("widget", "widget-config")]
    for host in Domain.objects.filter(tenant_id__in=client_ids).values_list("domain", flat=True):
        entries.append(("host", host))
    for lookup in ApiKey.objects.filter(client_id__in=client_ids).values_list("lookup", flat=True):
        entries.append(("key", lookup))
    return entries


@receiver([post_save, post_delete], sender=Client)
def client_changed(sender: Any, instance: Client, **kwargs: Any) -> None:
    cache_delete_many(_client_entries([instance.pk]))


@receiver([post_save, post_delete], sender=Plan)
def plan_changed(sender: Any, instance: Plan, **kwargs: Any) -> None:
    cache_delete_many(_client_entries(list(Client.objects.filter(plan=instance).values_list("pk", flat=True))))


@receiver(pre_save, sender=Domain)
def domain_renamed(sender: Any, instance: Domain, **kwargs: Any) -> None:
    if instance.pk:
        old = Domain.objects.filter(pk=instance.pk).values_list("domain", flat=True).first()
        if old and old != instance.domain:
            cache_delete_many([("host", old)])


@receiver([post_save, post_delete], sender=Domain)
def domain_changed(sender: Any, instance: Domain, **kwargs: Any) -> None:
    cache_delete_many([("host", instance.domain)])


@receiver([post_save, post_delete], sender=ApiKey)
def key_changed(sender: Any, instance: ApiKey, **kwargs: Any) -> None:
    cache_delete_many([("key", instance.lookup)])
