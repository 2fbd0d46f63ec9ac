"""Credentials at rest: encrypted JSON (django-encrypted-model-fields), a blind index for looked-up values,
and the start-up check that the key in force still decrypts what was stored (STACK-NOTES: a wrong key
returns the ciphertext instead of raising)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(ImproperlyConfigured):
    """The stored credentials do not decrypt with FIELD_ENCRYPTION_KEY (the key changed?)."""


def blind_index(value: str) -> str:
    """HMAC-SHA256 of a normalised value (spaces dropped, case folded): equality lookups without plaintext."""
    normalised = "".join(str(value).split()).casefold()
    if not normalised:
        return ""
    key = settings.INTEGRATIONS_BLIND_INDEX_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def credentials_load(text: str) -> dict[str, Any]:
    """The decrypted JSON object; CredentialsUnreadable when the text is not one (a ciphertext comes back
    unchanged when the key is wrong)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        raise CredentialsUnreadable("credentials do not decrypt: check FIELD_ENCRYPTION_KEY") from None
    if not isinstance(value, dict):
        raise CredentialsUnreadable("connected-account credentials are not a JSON object")
    return value


def credentials_dump(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True)


def canary_problem() -> str | None:
    """None when the stored encryption canary (public schema) decrypts; else why not. No table, no check."""
    from django.db import DatabaseError, connection

    from apps.core.models import CANARY_PLAINTEXT, EncryptionCanary

    try:
        if EncryptionCanary._meta.db_table not in connection.introspection.table_names():
            return None  # not migrated yet: migrate writes the canary with the key in force
        canary = EncryptionCanary.objects.order_by("pk").first()
    except DatabaseError:
        return None  # no database at hand (a build step): /readyz checks again at run time
    if canary is not None and canary.value != CANARY_PLAINTEXT:
        return "the encryption canary does not decrypt: FIELD_ENCRYPTION_KEY is not the key the data was stored with"
    return None


def canary_verify() -> None:
    problem = canary_problem()
    if problem:
        raise ImproperlyConfigured(problem)
