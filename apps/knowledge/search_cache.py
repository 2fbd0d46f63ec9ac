"""The knowledge search's answers, kept in this process while the client's knowledge base does not change.

A search costs two statements, the larger of which ranks every passage holding any of the question's words
(tens of milliseconds on 1,000 documents, on the critical path of a phone call), and its result depends only on
its arguments and on the knowledge base. So results are kept per process, keyed by the client's schema, the
arguments, and the knowledge base's *generation*: a token in the cache (Redis, per client schema), read once a
search (one GET), replaced after the commit of every change of a document, its passages, its agents or the
vocabulary (the models' signals below). A process that finds another token computes again.

- The token is replaced after the commit only: until then the other processes still read the committed
  knowledge base, which the results kept under the old token describe. A transaction that changed the knowledge
  base reads its own, uncommitted rows: it neither reads nor keeps results (a rollback ends that).
- Changes made without these paths (a flushed test database, SQL by hand) are not seen: the tests empty this
  process's results before each test (`forget_all`).
- With no token (a new client, a Redis restart), a token is set and nothing is kept until the next search.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_tenants.utils import schema_context

GENERATION_KEY = "knowledge:generation"  # the cache prefixes it with the client's schema
MAX_ENTRIES = 2048

_lock = threading.Lock()
_results: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()


class _Changed:
    """Waits in the transaction's callbacks (Django's `run_on_commit`) of a change, once per transaction."""

    __slots__ = ("schema",)

    def __init__(self, schema: str) -> None:
        self.schema = schema

    def __call__(self) -> None:
        with schema_context(self.schema):  # the cache's keys are the schema's, wherever the commit happens
            cache.set(GENERATION_KEY, uuid.uuid4().hex, None)


def _changed_here() -> bool:
    return connection.in_atomic_block and any(
        isinstance(entry[1], _Changed) and entry[1].schema == connection.schema_name
        for entry in connection.run_on_commit)


def knowledge_changed(**_kwargs: Any) -> None:
    """The current schema's knowledge base changed (or will, when this transaction commits)."""
    if connection.schema_name == "public" or _changed_here():
        return
    transaction.on_commit(_Changed(connection.schema_name))


def lookup(arguments: tuple[Any, ...]) -> tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]:
    """(the key to keep a result under, or None when it may not be kept; the result kept, or None)."""
    client_id = getattr(getattr(connection, "tenant", None), "pk", None)
    if client_id is None or _changed_here():  # a bare schema_context: no stable identity to key results by
        return None, None
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, None)
        return None, None
    # the client's id too: a schema dropped and created again for another client never finds the first's results
    key = (connection.schema_name, client_id, generation, *arguments)
    with _lock:
        found = _results.get(key)
        if found is not None:
            _results.move_to_end(key)
    return key, found


def keep(key: tuple[Any, ...] | None, result: list[Any]) -> list[Any]:
    if key is not None:
        with _lock:
            _results[key] = tuple(result)
            while len(_results) > MAX_ENTRIES:
                _results.popitem(last=False)
    return result


def forget_all() -> None:
    """This process's results (tests)."""
    with _lock:
        _results.clear()


def connect() -> None:
    """The models' signals: a document saved or deleted (an ingest saves its document after replacing its passages
    and vocabulary, and calls `knowledge_changed` too), its agents changed. Not the passages' own signals: a
    receiver would stop Django deleting a document's passages in one statement."""
    from apps.knowledge.models import Document

    for model in (Document, Document.agents.through):
        post_save.connect(knowledge_changed, sender=model, dispatch_uid=f"knowledge-changed-save-{model.__name__}")
        post_delete.connect(knowledge_changed, sender=model,
                            dispatch_uid=f"knowledge-changed-delete-{model.__name__}")
    m2m_changed.connect(knowledge_changed, sender=Document.agents.through, dispatch_uid="knowledge-changed-agents")
