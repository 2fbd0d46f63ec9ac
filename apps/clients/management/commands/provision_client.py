"""Create and provision a client from the command line (the same service as the admin)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.clients import services
from apps.clients.models import ApiKey, Client, Plan
from apps.core.errors import VocaliaError


class Command(BaseCommand):
    help = "Create a client and provision it now (or retry provisioning an existing one)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--plan", default="pro")
        parser.add_argument("--owner", default="", help="owner's e-mail (invited if the account does not exist)")
        parser.add_argument("--language", default="fr")
        parser.add_argument("--timezone", default="Europe/Paris")
        parser.add_argument("--currency", default="EUR")
        parser.add_argument("--sector", default="")
        parser.add_argument("--async", dest="run_async", action="store_true", help="queue it in Celery instead")

    def handle(self, *args: Any, **o: Any) -> None:
        client = Client.objects.filter(slug=o["slug"]).first()
        try:
            if client is None:
                plan = Plan.objects.filter(code=o["plan"]).first()
                if plan is None:
                    raise CommandError(f"unknown plan {o['plan']!r}; run migrate_all to create the catalogue")
                client = services.client_create(
                    name=o["name"] or o["slug"].replace("-", " ").title(), slug=o["slug"], plan=plan,
                    owner_email=o["owner"], default_language=o["language"], timezone_name=o["timezone"],
                    currency=o["currency"], sector=o["sector"], provision=o["run_async"],
                )
            if o["run_async"]:
                self.stdout.write(f"{client.slug}: provisioning queued")
                return
            client = services.client_provision(client_id=client.pk)
        except VocaliaError as error:
            raise CommandError(error.message) from error
        self.stdout.write(self.style.SUCCESS(f"{client.slug}: {client.status} at {services.client_url(client)}"))
        for key in ApiKey.objects.filter(client=client, revoked_at__isnull=True):
            if key.reveal_once:
                self.stdout.write(f"  secret key (shown once): {key.reveal_once}")
                key.reveal_once = ""
                key.save(update_fields=["reveal_once"])
            elif key.kind == ApiKey.Kind.PUBLISHABLE:
                self.stdout.write(f"  widget key: {key.lookup}")
