"""Knowledge search: PostgreSQL full-text search per language, trigram fallback for short or misspelt queries.

Runs in the active client's schema: a client's agent can only ever find its own passages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection

from apps.knowledge.models import Chunk, Document, Word
from apps.knowledge.text import TS_CONFIGS, query_terms

_CONFIGS = sorted(set(TS_CONFIGS.values()))
SIMILARITY_THRESHOLD = 0.4
CONFIGS_CACHE_KEY = "knowledge:stats"  # the cache prefixes it with the client's schema
COMMON_SHARE = 0.3


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: int
    title: str
    text: str
    score: float
    method: str  # "fulltext", or "fulltext+corrected" when misspelt words were corrected


def _terms(query: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in query_terms(query):
        if not word.isdigit() or len(word) >= 3:
            seen.setdefault(word, None)
    return list(seen)[:24]


def _vocabulary(terms: list[str]) -> tuple[list[str], dict[str, int]]:
    """(corrections, document counts): words of the client's vocabulary close to the query's words
    (typos, variants, plurals), and how many documents use each query word exactly."""
    if not terms:
        return [], {}
    table = Word._meta.db_table
    with connection.cursor() as cursor:
        # `%` (index-assisted, default threshold 0.3) finds candidates; the stricter similarity keeps them
        cursor.execute(
            f"""SELECT q.term, w.word, w.doc_count, w.sim FROM unnest(%s::text[]) AS q(term)
                CROSS JOIN LATERAL (SELECT word, doc_count, similarity(word, q.term) AS sim FROM {table}
                                    WHERE word %% q.term ORDER BY sim DESC, word LIMIT 3) AS w
                WHERE w.sim >= %s""",
            [terms, SIMILARITY_THRESHOLD],
        )
        rows = cursor.fetchall()
    counts = {term: doc_count for term, word, doc_count, _sim in rows if term == word}
    corrections = sorted({word for term, word, _count, _sim in rows
                          if word not in terms and len(term) >= 4 and not term.isdigit()})
    return corrections, counts


def _informative(terms: list[str], counts: dict[str, int]) -> list[str]:
    """Drop words most documents use (in a dental clinic's documents, "dent"): they match everything
    and rank nothing, and would make the ranking scan the whole knowledge base."""
    total = kb_document_count()
    ceiling = max(20, int(total * COMMON_SHARE))
    kept = [term for term in terms if counts.get(term, 0) <= ceiling]
    return kept or terms


def _tsquery_text(terms: list[str], corrections: list[str]) -> str:
    # prefix matching for longer words ("pay" finds "payment", "horaire" finds "horaires")
    parts = [f"{term}:*" if len(term) >= 3 and not term.isdigit() else term for term in terms] + corrections
    return " | ".join(parts)


def _stats() -> dict[str, Any]:
    """The text-search configurations the client's documents use and how many documents there are
    (cached per client, reset on ingest)."""
    stats = cache.get(CONFIGS_CACHE_KEY)
    if stats is None:
        stats = {"configs": sorted(set(Chunk.objects.values_list("ts_config", flat=True).distinct()) & set(_CONFIGS)),
                 "documents": Document.objects.filter(status=Document.Status.READY).count()}
        cache.set(CONFIGS_CACHE_KEY, stats, 300)
    return stats


def kb_configs() -> list[str]:
    return list(_stats()["configs"])


def kb_document_count() -> int:
    return int(_stats()["documents"])


def _fulltext(expression: str, limit: int) -> list[tuple[Any, ...]]:
    """(chunk id, document id, title, text, rank) of the best passages of ready documents."""
    configs = kb_configs()
    if not expression or not configs:
        return []
    tsquery = " || ".join(f"to_tsquery('{config}', %s)" for config in configs)
    chunks, documents = Chunk._meta.db_table, Document._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.document_id, d.title, c.text, ts_rank_cd(c.search_vector, q, 32) AS rank
                FROM {chunks} c JOIN {documents} d ON d.id = c.document_id,
                     ({'SELECT ' + tsquery}) AS query(q)
                WHERE c.search_vector @@ q AND d.status = %s ORDER BY rank DESC, c.id LIMIT %s""",
            [expression] * len(configs) + [Document.Status.READY, limit],
        )
        return cursor.fetchall()


def knowledge_search(*, query: str, limit: int = 3) -> list[Passage]:
    """The best passages for `query`, best first, each naming its document. Two queries."""
    terms = _terms(query)
    corrections, counts = _vocabulary(terms)
    terms = _informative(terms, counts)
    method = "fulltext+corrected" if corrections else "fulltext"
    return [Passage(chunk_id=chunk_id, document_id=document_id, title=title, text=text, score=round(float(rank), 4),
                    method=method)
            for chunk_id, document_id, title, text, rank in _fulltext(_tsquery_text(terms, corrections), limit)]


def documents_list() -> list[Document]:
    return list(Document.objects.all())
