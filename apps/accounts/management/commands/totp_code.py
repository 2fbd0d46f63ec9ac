"""Print the current TOTP code of a user (development and demo only: it reads the stored secret)."""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import User


class Command(BaseCommand):
    help = "Print the current six-digit TOTP code for a user who has TOTP set up (refused when DEBUG is off)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, email: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("totp_code is a development aid; it is refused when DEBUG is off")
        user = User.objects.filter(email__iexact=email).first()
        authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first() if user else None
        if authenticator is None:
            raise CommandError(f"{email} has no TOTP authenticator")
        secret = decrypt(authenticator.data["secret"])
        counter = int(time.time()) // app_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(secret, counter)))
