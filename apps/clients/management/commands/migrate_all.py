"""Migrate everything in order: the public schema, the client template, every client schema."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.clients import provisioning
from apps.clients.models import Plan
from apps.clients.plans import plans_sync


class Command(BaseCommand):
    help = "Migrate the public schema, the template schema new clients are cloned from, and every client."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--executor", default="standard", choices=["standard", "multiprocessing", "subprocess"])
        parser.add_argument("--skip-clients", action="store_true", help="Only public and template.")

    def handle(self, *args: Any, executor: str, skip_clients: bool, **options: Any) -> None:
        verbosity = int(options.get("verbosity", 1))
        quiet = max(0, verbosity - 1)
        self.stdout.write("public schema…")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=quiet)
        created = plans_sync(Plan)
        if created:
            self.stdout.write(f"  {created} plan(s) added to the catalogue")
        self.stdout.write(f"template schema {provisioning.TEMPLATE_SCHEMA}…")
        provisioning.template_sync(verbosity=quiet)
        if not skip_clients:
            self.stdout.write("client schemas…")
            call_command("migrate_schemas", tenant=True, executor=executor, interactive=False, verbosity=quiet)
        self.stdout.write(self.style.SUCCESS("migrations done"))
