"""Run the reminders sweep (and the campaigns') now, optionally as if it were another time — the demo's way to make
tomorrow's reminder fire today:

    manage.py reminders_sweep                         # what beat does every minute
    manage.py reminders_sweep --now "2026-12-02T09:00+01:00"
    manage.py reminders_sweep --ahead 23h             # as if 23 hours had passed (also 90m, 2d)

Only notices due by that time are queued, once each (a notice already queued is never queued again)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.messaging.campaigns import campaigns_sweep
from apps.messaging.notices import notices_sweep

AHEAD = re.compile(r"^(\d{1,5})([mhd])$")


class Command(BaseCommand):
    help = "Queue the booking reminders (and campaign messages) due now, or by --now / --ahead."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--now", default="", help="ISO 8601 time to sweep as of (naive: the server's zone)")
        parser.add_argument("--ahead", default="", help="sweep as of now + this much: 90m, 23h, 2d")
        parser.add_argument("--no-campaigns", action="store_true", help="only the booking notices")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["now"]:
            try:
                parsed = parse_datetime(options["now"].strip())
            except ValueError:
                parsed = None
            if parsed is None:
                raise CommandError("--now must be an ISO 8601 time, e.g. 2026-12-02T09:00+01:00")
            now = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
        if options["ahead"]:
            match = AHEAD.match(options["ahead"].strip())
            if match is None:
                raise CommandError("--ahead takes minutes, hours or days: 90m, 23h, 2d")
            unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
            now = now + timedelta(**{unit: int(match.group(1))})
        result = notices_sweep(now=now)
        self.stdout.write(f"as of {now.isoformat(timespec='minutes')}: {result['queued']} notice(s) queued in "
                          f"{result['clients']} client(s)")
        if not options["no_campaigns"]:
            self.stdout.write(f"campaigns: {campaigns_sweep(now=now)['queued']} message(s) queued")
