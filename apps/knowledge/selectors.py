"""Knowledge search: PostgreSQL full-text search per language, trigram fallback for short or misspelt queries.

Runs in the active client's schema: a client's agent can only ever find its own passages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _

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


SEARCH_METHOD_LABELS = {
    "fulltext": _("Found with the words of the question."),
    "fulltext+corrected": _("Found after correcting misspelt words of the question."),
}


def search_method_label(method: str) -> str:
    """How a passage was found, as a sentence for people (Passage.method is a code)."""
    return str(SEARCH_METHOD_LABELS.get(method, method))


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


def _informative(terms: list[str], counts: dict[str, int], total: int) -> list[str]:
    """Drop words most documents use (in a dental clinic's documents, "dent"): they match everything
    and rank nothing, and would make the ranking scan the whole knowledge base."""
    ceiling = max(20, int(total * COMMON_SHARE))
    kept = [term for term in terms if counts.get(term, 0) <= ceiling]
    return kept or terms


def _tsquery_text(terms: list[str], corrections: list[str]) -> tuple[str, str]:
    """(words for each language's stemmer, the same words as prefixes for the 'simple' configuration).
    Prefixes go unstemmed: "pay" finds "payment", but French "payer" (stem "pai") does not find "pain"."""
    words = terms + corrections
    prefixes = [f"{term}:*" for term in terms if len(term) >= 3 and not term.isdigit()]
    return " | ".join(words), " | ".join(prefixes)


def _stats() -> dict[str, Any]:
    """The text-search configurations the client's documents use and how many documents there are
    (cached per client, reset on ingest)."""
    stats = cache.get(CONFIGS_CACHE_KEY)
    if stats is None:
        ready = Document.objects.filter(status=Document.Status.READY)
        stats = {"configs": sorted(set(Chunk.objects.values_list("ts_config", flat=True).distinct()) & set(_CONFIGS)),
                 "documents": ready.count(),
                 "languages": sorted(set(ready.values_list("language", flat=True).distinct()))}
        cache.set(CONFIGS_CACHE_KEY, stats, 300)
    return stats



def _fulltext(expressions: tuple[str, str], limit: int, languages: list[str],
              configs: list[str]) -> list[tuple[Any, ...]]:
    """(chunk id, document id, title, text, rank) of the best passages of ready documents."""
    words, prefixes = expressions
    if not words or not configs:
        return []
    parts = [f"to_tsquery('{config}', %s)" for config in configs] + (["to_tsquery('simple', %s)"] if prefixes else [])
    params: list[Any] = [words] * len(configs) + ([prefixes] if prefixes else [])
    language_filter = ""
    if languages:
        language_filter = "AND d.language = ANY(%s)"
    chunks, documents = Chunk._meta.db_table, Document._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.document_id, d.title, c.text, ts_rank_cd(c.search_vector, q, 32) AS rank
                FROM {chunks} c JOIN {documents} d ON d.id = c.document_id,
                     (SELECT {' || '.join(parts)}) AS query(q)
                WHERE c.search_vector @@ q AND d.status = %s {language_filter}
                ORDER BY rank DESC, c.id LIMIT %s""",
            params + [Document.Status.READY] + ([languages] if languages else []) + [limit],
        )
        return cursor.fetchall()


def knowledge_search(*, query: str, limit: int = 3, language: str = "") -> list[Passage]:
    """The best passages for `query`, best first, each naming its document.

    With `language`, documents in that language come first: when the knowledge base has any,
    only they are searched (Arabic and Darija count as one), so a French visitor is not answered
    from the English FAQ."""
    stats = _stats()  # one cache read per search
    terms = _terms(query.replace("\x00", ""))
    corrections, counts = _vocabulary(terms)
    terms = _informative(terms, counts, int(stats["documents"]))
    method = "fulltext+corrected" if corrections else "fulltext"
    languages = _languages_for(language, set(stats.get("languages", [])))
    rows = _fulltext(_tsquery_text(terms, corrections), limit, languages, list(stats["configs"]))
    return [Passage(chunk_id=chunk_id, document_id=document_id, title=title, text=text, score=round(float(rank), 4),
                    method=method)
            for chunk_id, document_id, title, text, rank in rows]


def _languages_for(language: str, present: set[str]) -> list[str]:
    if not language:
        return []
    family = ["ar", "ary"] if language in {"ar", "ary"} else [language]
    return family if present & set(family) else []
