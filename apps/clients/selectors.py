"""Reads: how a request finds its client, and who may do what there.

Routing lookups are cached in Redis (apps.core.platform_cache) and invalidated by
apps.clients.signals whenever a client, plan, domain or key changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from apps.clients import keys
from apps.clients.models import ApiKey, Client, Domain, Invitation, Membership
from apps.core.platform_cache import MISSING, cache_get, cache_set


def client_by_host(host: str) -> Client | None:
    host = host.lower().rstrip(".")
    cached = cache_get("host", host)
    if cached is not MISSING:
        return cached
    domain = Domain.objects.select_related("tenant", "tenant__plan").filter(domain=host).first()
    client = domain.tenant if domain else None
    cache_set(client, "host", host)
    return client


@dataclass(frozen=True)
class KeyMatch:
    client: Client
    key_id: int
    expires_at: object
    revoked_at: object
    secret_hash: str

    def valid_now(self) -> bool:
        now = timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:  # type: ignore[operator]
            return False
        return self.expires_at is None or self.expires_at > now  # type: ignore[operator]


def _key_lookup(lookup: str) -> KeyMatch | None:
    cached = cache_get("key", lookup)
    if cached is not MISSING:
        return cached
    row = ApiKey.objects.select_related("client", "client__plan").filter(lookup=lookup).first()
    match = (
        KeyMatch(client=row.client, key_id=row.pk, expires_at=row.expires_at, revoked_at=row.revoked_at,
                 secret_hash=row.secret_hash)
        if row else None
    )
    cache_set(match, "key", lookup)
    return match


def client_by_publishable_key(key: str) -> Client | None:
    """The client owning a valid `pk_…` key, or None (malformed, unknown, revoked, expired)."""
    if not keys.PUBLISHABLE_RE.match(key or ""):
        return None
    match = _key_lookup(key)
    if match is None or match.secret_hash or not match.valid_now():
        return None
    return match.client


def publishable_key_owner(key: str) -> Client | None:
    """The client a well-formed `pk_…` key belongs or belonged to, valid or not (to explain refusals)."""
    if not keys.PUBLISHABLE_RE.match(key or ""):
        return None
    match = _key_lookup(key)
    return match.client if match is not None and not match.secret_hash else None


def client_by_secret_key(full_key: str) -> Client | None:
    """The client owning a valid `sk_…` key, or None. Compares the HMAC in constant time."""
    lookup = keys.secret_parse(full_key or "")
    if lookup is None:
        return None
    match = _key_lookup(lookup)
    if match is None or not match.secret_hash or not match.valid_now():
        return None
    if not keys.secret_matches(full_key, match.secret_hash):
        return None
    return match.client


def membership_for(*, user: object, client: Client) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, client=client).first()


def client_members(*, client: Client) -> QuerySet[Membership]:
    return Membership.objects.filter(client=client).select_related("user").order_by("role", "user__email")


def client_keys(*, client: Client) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(client=client).order_by("kind", "-created")


def client_publishable_key(*, client: Client) -> ApiKey | None:
    now = timezone.now()
    for key in ApiKey.objects.filter(client=client, kind=ApiKey.Kind.PUBLISHABLE, revoked_at__isnull=True):
        if key.is_valid_at(now) and key.expires_at is None:
            return key
    return None


def client_primary_host(client: Client) -> str:
    domain = client.domains.filter(is_primary=True).first() or client.domains.first()
    return domain.domain if domain else ""


def client_owner_invitation(*, client: Client) -> Invitation | None:
    """The newest owner invitation sent to the client's owner e-mail, if any (pending or not)."""
    if not client.owner_email:
        return None
    return (Invitation.objects.filter(client=client, email__iexact=client.owner_email, role=Membership.Role.OWNER)
            .order_by("-created").first())


def client_owner_joined(*, client: Client) -> bool:
    return bool(client.owner_email) and Membership.objects.filter(
        client=client, role=Membership.Role.OWNER, user__email__iexact=client.owner_email).exists()
