"""Addresses for the message channels: checked once, before anything is queued."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput

PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,20}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHANNELS = ("sms", "whatsapp", "email")


def address_check(*, channel: str, to: str) -> str:
    to = to.strip()
    if channel not in CHANNELS:
        raise InvalidInput(_("Unknown channel."))
    if channel == "email" and not EMAIL_RE.match(to):
        raise InvalidInput(_("Enter a valid e-mail address."))
    if channel != "email" and not PHONE_RE.match(to):
        raise InvalidInput(_("Enter a valid phone number."))
    return to
