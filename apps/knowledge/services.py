"""Knowledge base writes: add a document, ingest it into searchable chunks (in Celery)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlparse

import httpx
from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Value
from django.utils import translation
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.clients.services import manager_require
from apps.core.errors import InvalidInput, PayloadTooLarge
from apps.knowledge import search_cache
from apps.knowledge import text as kb_text
from apps.knowledge.models import Chunk, Document, Word
from apps.knowledge.selectors import CONFIGS_CACHE_KEY

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000


def document_create(*, title: str, kind: str, language: str, text: str = "", data: bytes | None = None,
                    url: str = "", ingest: bool = True, agents: list[Any] | None = None) -> Document:
    """Record a document; its ingestion runs in Celery after commit. Call inside the client's schema.
    With `agents`, only those agents answer from it; without, every agent of the client."""
    if kind not in Document.Kind.values:
        raise InvalidInput(_("Unknown document kind."))
    if language not in kb_text.TS_CONFIGS:
        raise InvalidInput(_("Unknown language."))
    if kind == Document.Kind.URL:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise InvalidInput(_("Enter a web address starting with http:// or https://."))
    elif kind == Document.Kind.PDF:
        if not data:
            raise InvalidInput(_("The PDF file is empty."))
        if not data.startswith(b"%PDF"):
            raise InvalidInput(_("This file is not a PDF."))
    elif not text.replace("\x00", "").strip():
        raise InvalidInput(_("The document is empty."))
    if (data and len(data) > MAX_DOCUMENT_BYTES) or len(text) > MAX_TEXT_CHARS:
        raise PayloadTooLarge(_("The document is too large (10 MB at most)."))
    text, title = text.replace("\x00", ""), title.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    title = (title.strip() or url or _("Untitled"))[:200]
    document = Document.objects.create(title=title, kind=kind, language=language, raw_text=text,
                                       raw_bytes=data, source_url=url)
    if agents:
        document.agents.set(agents)
        cache.delete(CONFIGS_CACHE_KEY)
    if ingest:
        from apps.knowledge.tasks import document_ingest_task

        transaction.on_commit(lambda: document_ingest_task.delay(document.pk))
    return document


def _check_public_address(url: str) -> None:
    if settings.KNOWLEDGE_ALLOW_PRIVATE_URLS:
        return
    host = urlparse(url).hostname or ""
    for info in socket.getaddrinfo(host, None):
        address = ipaddress.ip_address(info[4][0])
        if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
            raise InvalidInput(_("This address points to a private network and cannot be fetched."))


def _fetch(url: str) -> tuple[str, str, bytes]:
    """(content type, page title, body) of a URL, size-capped."""
    _check_public_address(url)
    with httpx.Client(timeout=15, follow_redirects=True, headers={"User-Agent": "VocaliaBot/1.0"}) as client:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise InvalidInput(_("The page answered with HTTP %(status)s.") % {"status": response.status_code})
            body = b""
            for part in response.iter_bytes():
                body += part
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise PayloadTooLarge(_("The document is too large (10 MB at most)."))
            return response.headers.get("content-type", ""), "", body


def _extract(document: Document) -> str:
    kind = document.kind
    if kind == Document.Kind.TEXT:
        return document.raw_text
    if kind == Document.Kind.MARKDOWN:
        return kb_text.markdown_to_text(document.raw_text)
    if kind == Document.Kind.HTML:
        return kb_text.html_to_text(document.raw_text)[1]
    if kind == Document.Kind.PDF:
        return kb_text.pdf_to_text(bytes(document.raw_bytes or b""))
    content_type, _title, body = _fetch(document.source_url)
    if "pdf" in content_type or body.startswith(b"%PDF"):
        return kb_text.pdf_to_text(body)
    decoded = body.decode("utf-8", errors="replace")
    if "html" in content_type or "<html" in decoded[:2000].lower():
        page_title, page_text = kb_text.html_to_text(decoded)
        if page_title and document.title == document.source_url:
            document.title = page_title[:200]
            document.save(update_fields=["title"])
        return page_text
    return decoded


def _progress(document: Document, percent: int, status: str | None = None, error: str = "") -> None:
    document.progress = percent
    fields = ["progress", "updated"]
    if status:
        document.status = status
        document.error = error
        fields += ["status", "error"]
    document.save(update_fields=fields)


def document_ingest(*, document_id: int, analyze: bool = True) -> Document:
    """Extract, chunk and index a document. Safe to re-run: its chunks are replaced.
    Errors are written in the client's default language (this usually runs in a worker).
    With `analyze`, the knowledge tables' planner statistics are refreshed afterwards (`knowledge_analyze`)."""
    tenant = getattr(connection, "tenant", None)
    with translation.override(getattr(tenant, "default_language", None) or translation.get_language()):
        document = _ingest(document_id)
    if analyze:
        knowledge_analyze()
    return document


def knowledge_analyze() -> None:
    """Refresh PostgreSQL's statistics of the current schema's knowledge tables (ANALYZE, a few ms).

    Without them (a new client's tables, or a server whose autovacuum has not come by yet) the planner guesses
    that one document passes the search's filters and loops over every passage once per document: measured on
    1,000 documents, one question took 7 s instead of 0.1 s. The answers are the same either way."""
    tables = [model._meta.db_table for model in (Document, Chunk, Word)] + [Document.agents.through._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


def _ingest(document_id: int) -> Document:
    document = Document.objects.get(pk=document_id)
    _progress(document, 5, Document.Status.PROCESSING)
    try:
        content = _extract(document).replace("\x00", "")  # a PDF or a fetched page may hold NUL bytes
        if not content.strip():
            raise InvalidInput(_("No text could be read from this document."))
        _progress(document, 40)
        pieces = kb_text.chunk_text(content)
        config = kb_text.ts_config(document.language)
        with transaction.atomic():
            document.chunks.all().delete()
            Chunk.objects.bulk_create([
                Chunk(document=document, index=index, text=piece, ts_config=config,
                      search_text=kb_text.normalise(f"{document.title}\n{piece}"))
                for index, piece in enumerate(pieces)
            ], batch_size=500)
            _progress(document, 80)
            Chunk.objects.filter(document=document).update(
                search_vector=SearchVector("search_text", config=Value(config)))
            vocabulary = {word for piece in pieces for word in kb_text.query_terms(f"{document.title} {piece}")
                          if 3 <= len(word) <= 64 and not word.isdigit()}
            _vocabulary_add(sorted(vocabulary), document.language)
            search_cache.knowledge_changed()  # passages and vocabulary (the document's save below says it too)
            document.chunk_count = len(pieces)
            document.save(update_fields=["chunk_count"])
        cache.delete(CONFIGS_CACHE_KEY)
        _progress(document, 100, Document.Status.READY)
    except Exception as exc:  # the document shows why; nothing else is lost
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        _progress(document, 100, Document.Status.FAILED, str(message)[:2000])
    return document


def _vocabulary_add(words: list[str], language: str) -> None:
    table = Word._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (word, doc_count, languages) SELECT unnest(%s::text[]), 1, ARRAY[%s]::varchar[]
                ON CONFLICT (word) DO UPDATE SET doc_count = {table}.doc_count + 1,
                    languages = CASE WHEN %s = ANY({table}.languages) THEN {table}.languages
                                     ELSE array_append({table}.languages, %s::varchar) END""",
            [words, language, language, language])


def document_delete(*, client: Any, document: Document, actor: Any, ip: str | None = None) -> None:
    """Delete a document and its chunks: owners and admins; audited. Call inside the client's schema."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    with transaction.atomic():
        document_id, title = document.pk, document.title
        document.delete()
        cache.delete(CONFIGS_CACHE_KEY)
        audit_record(action="knowledge.document_deleted", actor=actor, target=title, ip=ip,
                     data={"document": document_id})


def document_retry(*, client: Any, document: Document, actor: Any, ip: str | None = None) -> Document:
    """Ingest a document again (in Celery, after commit): owners and admins; audited. Call inside its schema."""
    from apps.knowledge.tasks import document_ingest_task

    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    with transaction.atomic():
        audit_record(action="knowledge.document_retried", actor=actor, target=document.title, ip=ip,
                     data={"document": document.pk})
        transaction.on_commit(lambda: document_ingest_task.delay(document.pk))
    return document


def document_agents_set(*, document: Document, agents: list[Any]) -> Document:
    """Choose the agents that answer from a document (none: every agent of the client)."""
    document.agents.set(agents)
    cache.delete(CONFIGS_CACHE_KEY)
    return document


def documents_import(*, rows: list[dict[str, Any]], language: str,
                     agents: list[Any] | None = None) -> list[Document]:
    """Add several text documents and ingest them now (demo data, benches, an agent's FAQ)."""
    created = []
    for row in rows:
        document = document_create(title=row["title"], kind=Document.Kind.TEXT, language=language,
                                   text=row["text"], ingest=False, agents=agents)
        created.append(document_ingest(document_id=document.pk, analyze=False))
    knowledge_analyze()  # once for the whole import
    return created


def document_upload(*, client: Any, actor: Any, title: str, kind: str, language: str, text: str = "",
                    data: bytes | None = None, url: str = "", agent_ids: list[int] | None = None,
                    ip: str | None = None) -> Document:
    """Add a document as an owner, an admin or the client's secret key (the REST API's upload): the plan's document
    quota first, agents by id (an id the client does not have is refused), then `document_create`; audited.
    Call inside the client's schema."""
    from apps.agents.models import Agent
    from apps.clients.entitlements import quota_require

    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    quota_require(client, "knowledge_documents", used=Document.objects.count())
    agents: list[Any] = []
    if agent_ids:
        agents = list(Agent.objects.filter(pk__in=agent_ids))
        if len(agents) != len(set(agent_ids)):
            raise InvalidInput(_("No agent with this id."), param="agents")
    with transaction.atomic():
        document = document_create(title=title, kind=kind, language=language, text=text, data=data, url=url,
                                   agents=agents)
        audit_record(action="knowledge.document_added", actor=actor, target=document.title, ip=ip,
                     data={"document": document.pk, "kind": kind})
    return document


def document_remove(*, client: Any, actor: Any, document_id: int, ip: str | None = None) -> None:
    """`document_delete` of the document with this id in the active client's schema; NotFound otherwise."""
    from apps.knowledge.selectors import document_get

    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    document_delete(client=client, document=document_get(document_id=document_id), actor=actor, ip=ip)
