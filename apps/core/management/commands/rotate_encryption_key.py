"""Re-encrypt every encrypted field with the first key of FIELD_ENCRYPTION_KEY.

Rotation: prepend the new key (`FIELD_ENCRYPTION_KEY=new,old`), deploy, run this
command, then drop the old key. Rows are read with any listed key and saved with the
first one, in the public schema and every client schema.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django_tenants.utils import get_tenant_model, schema_context
from encrypted_model_fields.fields import EncryptedMixin


def _encrypted_models(app_labels: set[str]) -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in app_labels:
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedMixin)]
        if fields:
            found.append((model, fields))
    return found


class Command(BaseCommand):
    help = "Re-save every encrypted field with the current (first) FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        def labels(names: list[str]) -> set[str]:
            return {apps.get_app_config(name.rsplit(".", 1)[-1]).label for name in names
                    if apps.is_installed(name)}

        shared = labels(settings.SHARED_APPS) - labels(settings.TENANT_APPS)
        schemas = [("public", shared)] + [
            (schema, labels(settings.TENANT_APPS))
            for schema in get_tenant_model().objects.values_list("schema_name", flat=True)
        ]
        total = 0
        for schema, app_labels in schemas:
            with schema_context(schema), transaction.atomic():
                for model, fields in _encrypted_models(app_labels):
                    for row in model.objects.all().iterator():
                        row.save(update_fields=fields)
                        total += 1
        connection.set_schema_to_public()
        self.stdout.write(self.style.SUCCESS(f"{total} row(s) re-encrypted in {len(schemas)} schema(s)"))
