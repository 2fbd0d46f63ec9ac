"""What every provider of every kind shares: its settings fields, how it is built, how it fails.

A provider is one class. Besides its kind's interface (`<kind>/base.py`) it carries:

    name     the registry name ("deepgram"), stored in connected accounts and deliveries
    label    what the Integrations page shows
    offline  True for a twin: it works with no network and no key
    fields   the settings it needs (`Field`s); secret ones are encrypted at rest and never shown back
    connectable  False for a provider only the agency configures (its own mail server)
    from_settings(values) -> provider   build one from a client's account or the agency default

Failures are `ProviderError(message, permanent=...)`: permanent means "the same request will fail again".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.functional import Promise

from apps.core.errors import ProviderError

KINDS = ("llm", "stt", "tts", "sms", "whatsapp", "email", "telephony", "billing")


@dataclass(frozen=True)
class Field:
    name: str
    label: str | Promise
    secret: bool = False
    required: bool = True
    lookup: bool = False  # the platform looks accounts up by this value: kept in a blind index (HMAC)
    placeholder: str = ""


class ProviderBase:
    """Default `from_settings`: the class's constructor takes its fields as keyword arguments."""

    name: ClassVar[str] = ""
    label: ClassVar[str | Promise] = ""
    offline: ClassVar[bool] = False
    fields: ClassVar[tuple[Field, ...]] = ()
    connectable: ClassVar[bool] = True  # a client may connect its own account (not the agency's own mail)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> Any:
        known = {field.name for field in cls.fields}
        missing = [field.name for field in cls.fields if field.required and not values.get(field.name)]
        if missing:
            raise ProviderError(f"{cls.name}: missing settings {', '.join(missing)}", permanent=True)
        return cls(**{key: value for key, value in values.items() if key in known and value not in (None, "")})


__all__ = ["KINDS", "Field", "ProviderBase", "ProviderError"]
