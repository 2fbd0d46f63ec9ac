"""Key formats. `pk_<24>` is public; `sk_<12>_<40>` is shown once and stored as an HMAC."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

from django.conf import settings

_ALPHABET = string.ascii_letters + string.digits
PUBLISHABLE_RE = re.compile(r"^pk_[A-Za-z0-9]{24}$")
SECRET_RE = re.compile(r"^(sk_[A-Za-z0-9]{12})_([A-Za-z0-9]{40})$")


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def publishable_new() -> str:
    return f"pk_{_random(24)}"


def secret_new() -> tuple[str, str]:
    """Returns (lookup, full key)."""
    lookup = f"sk_{_random(12)}"
    return lookup, f"{lookup}_{_random(40)}"


def secret_hash(full_key: str) -> str:
    return hmac.new(settings.API_KEY_PEPPER.encode(), full_key.encode(), hashlib.sha256).hexdigest()


def secret_parse(full_key: str) -> str | None:
    """The lookup part of a well-formed secret key, else None."""
    match = SECRET_RE.match(full_key)
    return match.group(1) if match else None


def secret_matches(full_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(full_key), stored_hash)
