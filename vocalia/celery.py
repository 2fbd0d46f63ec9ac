"""Celery app. Tasks carry the client's schema (tenant-schemas-celery) when sent inside its context."""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vocalia.settings")

app = CeleryApp("vocalia")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
