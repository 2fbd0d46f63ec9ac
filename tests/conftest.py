"""The fixed cast, created once per session by cloning (TenantTestCase would cost ~35 s a class).

- staff:  agency staff with TOTP (MFA) set up
- alice:  owner of client A        - bob: member of client A
- carol:  owner of client B        - dave: a user with no client at all
Each test runs in a transaction rolled back at its end; the cast is committed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient

from apps.core.redis import get_redis

PASSWORD = "correct-horse-battery-staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class Cast:
    client_a: Any
    client_b: Any
    staff: Any
    alice: Any
    bob: Any
    carol: Any
    dave: Any
    sk_a: str
    sk_b: str
    pk_a: str
    pk_b: str


def _make_cast() -> Cast:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from apps.accounts.models import User
    from apps.clients import provisioning, services
    from apps.clients.models import ApiKey, Client, Membership, Plan

    database = connection.settings_dict["NAME"]
    assert database.startswith("test_"), f"refusing to write the test cast into {database!r}"
    provisioning.template_sync()

    def user(email: str, **extra: Any) -> User:
        found = User.objects.filter(email=email).first() or User.objects.create_user(email, PASSWORD, **extra)
        EmailAddress.objects.get_or_create(user=found, email=email, defaults={"verified": True, "primary": True})
        return found

    def client(slug: str, plan: str, language: str) -> Client:
        found = Client.objects.filter(slug=slug).first()
        if found is None:
            found = services.client_create(name=f"Client {slug.upper()}", slug=slug, plan=Plan.objects.get(code=plan),
                                           default_language=language, provision=False)
        if found.default_language != language:
            Client.objects.filter(pk=found.pk).update(default_language=language)
        if found.status != Client.Status.ACTIVE:
            services.client_provision(client_id=found.pk)
        return Client.objects.select_related("plan").get(pk=found.pk)

    def fresh_secret(client: Client) -> str:
        ApiKey.objects.filter(client=client, kind=ApiKey.Kind.SECRET).delete()
        lookup, full = services.keys.secret_new()
        ApiKey.objects.create(client=client, kind=ApiKey.Kind.SECRET, lookup=lookup,
                              secret_hash=services.keys.secret_hash(full))
        return full

    staff = user("staff@agency.test", is_staff=True, is_superuser=True)
    if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(staff, TOTP_SECRET)
    a, b = client("alpha", "pro", "en"), client("bravo", "starter", "ar")
    alice, bob, carol, dave = (user("alice@a.test"), user("bob@a.test"), user("carol@b.test"),
                               user("dave@nowhere.test"))
    for who, where, role in ((alice, a, "owner"), (bob, a, "member"), (carol, b, "owner")):
        Membership.objects.update_or_create(user=who, client=where, defaults={"role": role})

    def pk(client: Client) -> str:
        return ApiKey.objects.get(client=client, kind=ApiKey.Kind.PUBLISHABLE, revoked_at__isnull=True,
                                  expires_at__isnull=True).lookup

    return Cast(client_a=a, client_b=b, staff=staff, alice=alice, bob=bob, carol=carol, dave=dave,
                sk_a=fresh_secret(a), sk_b=fresh_secret(b), pk_a=pk(a), pk_b=pk(b))


@pytest.fixture(scope="session")
def django_db_setup(request: Any, django_test_environment: None, django_db_blocker: Any, django_db_keepdb: bool,
                    django_db_createdb: bool, django_db_modify_db_settings: None) -> Iterator[None]:
    """Always create the test database. pytest-django only does so for tests marked `django_db`;
    the WebSocket, race and browser tests commit through their own connections and are not marked,
    and run alone they would otherwise reach the development database."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=request.config.option.verbose, interactive=False, aliases={"default"},
                                 serialized_aliases=set(), keepdb=django_db_keepdb and not django_db_createdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=request.config.option.verbose)


@pytest.fixture(scope="session")
def session_cast(django_db_setup: None, django_db_blocker: Any) -> Iterator[Cast]:
    with django_db_blocker.unblock():
        made = _make_cast()
        connection.set_schema_to_public()
    yield made
    # Channels' database thread and the browser tests' server keep connections open; close them so
    # pytest-django can drop the test database.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
def cast(session_cast: Cast) -> Cast:
    """Fresh copies of the cast's rows for each test, so in-memory changes never leak into the next."""
    from dataclasses import replace

    return replace(session_cast, **{
        name: type(value).objects.get(pk=value.pk)
        for name, value in vars(session_cast).items() if hasattr(value, "pk")
    })


def _flush_test_redis() -> None:
    from django.conf import settings

    assert settings.REDIS_DB_BASE >= 10, "tests only ever flush their own Redis databases"
    get_redis().flushdb()


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Caches, routing entries and rate-limit counters copy rows that each test rolls back: start clean."""
    from django.utils import translation

    from apps.knowledge import search_cache

    _flush_test_redis()
    search_cache.forget_all()  # kept searches of knowledge bases the previous test rolled back or flushed
    translation.activate("en")  # a request's LocaleMiddleware leaves its language active: start from English
    yield
    translation.deactivate()
    connection.set_schema_to_public()
    _flush_test_redis()


def host_of(client: Any) -> str:
    return f"{client.slug}.localhost"


@pytest.fixture
def http() -> HttpClient:
    return HttpClient()


@pytest.fixture
def as_user(cast: Cast) -> Any:
    """`as_user(user, client)`: an HTTP client signed in on `client`'s host."""

    def make(user: Any, client: Any) -> HttpClient:
        http = HttpClient(HTTP_HOST=host_of(client))
        http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return http

    return make


def pytest_collection_finish(session: Any) -> None:
    """The embedded-servers test migrates a database of its own: start that in the background now, next to
    the test database's migrations (not under pytest-xdist, where every worker would start one)."""
    if hasattr(session.config, "workerinput"):
        return
    for item in session.items:
        prepare = getattr(getattr(item, "module", None), "embedded_prepare", None)
        if prepare is not None and "embedded" in getattr(item, "fixturenames", ()):
            prepare()
            return


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Browser tests last: they are the slowest, and the server they drive commits what it does."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
