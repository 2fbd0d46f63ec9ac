"""Client schemas: a migrated template, cloned for each new client.

Running every migration for a new schema costs ~37 s once dj-stripe is installed
(STACK-NOTES.md); cloning the template's structure (NODATA) and copying its
`django_migrations` rows takes a fraction of a second. `migrate_all` keeps the
template migrated whenever the code's migrations change. The template itself skips
the same ~37 s: the migrations of platform-only apps (dj-stripe, auth, allauth…) do
nothing in a client schema, so they are recorded there without being replayed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

TEMPLATE_SCHEMA: str = settings.TENANT_BASE_SCHEMA


class TemplateMissing(RuntimeError):
    pass


def _tenant_labels() -> set[str]:
    from django.apps import apps

    return {apps.get_app_config(name.rsplit(".", 1)[-1]).label for name in settings.TENANT_APPS}


def _tenant_migrations_on_disk() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    labels = _tenant_labels()
    return {node for node in MigrationLoader(None, ignore_no_migrations=True).graph.nodes if node[0] in labels}


def _platform_migrations_record(schema: str) -> int:
    """Record as applied in `schema` the migrations of apps that are not client apps (and depend on none).

    In a client schema the tenant router refuses every one of their operations (tables, RunSQL, RunPython),
    so applying them there only renders model states to do nothing: dj-stripe's 0002 alone, 514
    RemoveFields, is ~35 s of a template migration. The rows written are the ones `migrate` would write."""
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    tenant_labels = _tenant_labels()
    connection.set_schema(schema, include_public=False)  # the schema's own django_migrations, not public's
    try:
        recorder = MigrationRecorder(connection)
        recorder.ensure_schema()
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        applied = set(loader.applied_migrations)
        graph = loader.graph
        plan = dict.fromkeys(node for leaf in graph.leaf_nodes() for node in graph.forwards_plan(leaf))
        recorded = 0
        for node in plan:  # dependencies first
            if node in applied or node[0] in tenant_labels:
                continue
            if any(ancestor[0] in tenant_labels for ancestor in graph.forwards_plan(node)):
                continue  # it needs a client app's migration first: leave it to migrate
            migration = graph.nodes[node]
            for app_label, name in [*(migration.replaces or []), node]:
                recorder.record_applied(app_label, name)
            recorded += 1
        return recorded
    finally:
        connection.set_schema_to_public()


def template_is_current() -> bool:
    """Cheap check (no migration state rendering): every tenant migration on disk is applied to the template."""
    connection.set_schema_to_public()
    if not schema_exists(TEMPLATE_SCHEMA):
        return False
    try:
        return _tenant_migrations_on_disk() <= _applied(TEMPLATE_SCHEMA)
    except Exception:
        return False


def template_sync(*, verbosity: int = 0) -> None:
    """Create the template schema if needed and apply every tenant migration to it."""
    if template_is_current():
        return
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{TEMPLATE_SCHEMA}"')
    _platform_migrations_record(TEMPLATE_SCHEMA)
    call_command(
        "migrate_schemas", tenant=True, schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=verbosity
    )
    connection.set_schema_to_public()


def _applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return {(app, name) for app, name in cursor.fetchall()}


def schema_is_current(schema: str) -> bool:
    """True when `schema` exists and has every migration the template has."""
    if not schema_exists(schema):
        return False
    try:
        return _applied(TEMPLATE_SCHEMA) <= _applied(schema)
    except Exception:
        return False


def schema_clone(schema: str) -> None:
    """Create `schema` as an empty copy of the template, with its migrations recorded as applied."""
    connection.set_schema_to_public()
    if not schema_exists(TEMPLATE_SCHEMA):
        raise TemplateMissing(
            f"The template schema {TEMPLATE_SCHEMA!r} does not exist: run `python manage.py migrate_all`."
        )
    with transaction.atomic():  # all or nothing: a half-cloned schema would block a retry
        _clone_into(schema)
    connection.set_schema_to_public()


def _clone_into(schema: str) -> None:
    CloneSchema().clone_schema(TEMPLATE_SCHEMA, schema, "NODATA")
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{schema}".django_migrations (app, name, applied) '
            f'SELECT app, name, applied FROM "{TEMPLATE_SCHEMA}".django_migrations'
        )
        # NODATA copies sequences at their template values; start each one fresh.
        cursor.execute(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = %s", [schema]
        )
        for (sequence,) in cursor.fetchall():
            cursor.execute(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART WITH 1')


def schema_migrate(schema: str, *, verbosity: int = 0) -> None:
    """The slow path, by running every migration (kept for the benchmark and for repair)."""
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


def schema_drop(schema: str) -> None:
    if schema in {"public", TEMPLATE_SCHEMA}:
        raise ValueError(f"refusing to drop {schema!r}")
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def schema_exists_for(schema: str) -> bool:
    return bool(schema_exists(schema))
