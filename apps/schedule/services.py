"""The due index (public schema): note that a client has work due at a time; find the clients with work due; claim
one client's turn so that two sweeps (two beats, two workers) never handle the same client at once.

    due_note(client_id=…, kind="notices", at=when)        # in the transaction that wrote the item
    for client in clients_due(kind="notices", now=now):   # one indexed query
        with due_claim(client_id=client.pk, kind="notices") as claim:   # row lock, SKIP LOCKED
            if claim: ...handle, then claim.next_at = earliest pending

Correct under races: `due_note` is one upsert that always locks the row (LEAST of the old and new times). A writer
that notes first holds the row until it commits, and a sweep skips that client this tick (SKIP LOCKED; next tick it
is still due). A sweep that locks first makes the writer wait; the writer then lowers the value the sweep wrote."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from apps.schedule.models import DueWork


def due_note(*, client_id: int, kind: str, at: datetime) -> None:
    """`client_id` has an item of `kind` due at `at`: lower its next due time to `at` if later (or unset). One
    upsert, which always takes the row's lock: a sweep holding it makes this wait and then re-read its value."""
    table = DueWork._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "public"."{table}" (client_id, kind, next_at) VALUES (%s, %s, %s) '
            f'ON CONFLICT (client_id, kind) DO UPDATE SET next_at = LEAST(EXCLUDED.next_at, "{table}".next_at)',
            [client_id, kind, at])


def clients_due(*, kind: str, now: datetime, limit: int = 1000) -> list[Any]:
    """Active clients with work of `kind` due by `now`, earliest first (one query on the index)."""
    from apps.clients.models import Client

    ids = list(DueWork.objects.filter(kind=kind, next_at__lte=now).order_by("next_at")
               .values_list("client_id", flat=True)[:limit])
    found = {c.pk: c for c in Client.objects.filter(pk__in=ids, status=Client.Status.ACTIVE).select_related("plan")}
    return [found[pk] for pk in ids if pk in found]


@dataclass
class Claim:
    row: DueWork
    next_at: datetime | None


@contextmanager
def due_claim(*, client_id: int, kind: str) -> Iterator[Claim | None]:
    """One transaction holding this client's due row; None when another sweep holds it (it does the work). Set
    `claim.next_at` to the earliest item still pending; it is written when the block ends."""
    with transaction.atomic():
        row = DueWork.objects.select_for_update(skip_locked=True).filter(client_id=client_id, kind=kind).first()
        if row is None:
            yield None
            return
        claim = Claim(row=row, next_at=row.next_at)
        yield claim
        DueWork.objects.filter(pk=row.pk).update(next_at=claim.next_at)
