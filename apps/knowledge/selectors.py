"""Knowledge search: PostgreSQL full-text search per language, trigram fallback for short or misspelt queries.

Runs in the active client's schema: a client's agent can only ever find its own passages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from apps.knowledge.models import Chunk, Document
from apps.knowledge.text import TS_CONFIGS, query_terms

_CONFIGS = sorted(set(TS_CONFIGS.values()))
TRIGRAM_THRESHOLD = 0.45


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    document_id: int
    title: str
    text: str
    score: float
    method: str  # "fulltext", "trigram" or "both"


def _terms(query: str) -> list[str]:
    seen: dict[str, None] = {}
    for word in query_terms(query):
        if not word.isdigit() or len(word) >= 3:
            seen.setdefault(word, None)
    return list(seen)[:24]


def _fulltext(terms: list[str], limit: int) -> dict[int, float]:
    if not terms:
        return {}
    expression = " | ".join(terms)
    tsquery = " || ".join(f"to_tsquery('{config}', %s)" for config in _CONFIGS)
    table = Chunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id, ts_rank_cd(search_vector, q, 32) AS rank
                FROM {table}, ({'SELECT ' + tsquery}) AS query(q)
                WHERE search_vector @@ q ORDER BY rank DESC, id LIMIT %s""",
            [expression] * len(_CONFIGS) + [limit],
        )
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def _trigram(terms: list[str], limit: int) -> dict[int, float]:
    """Chunks containing a word close to one of the query's longest words (typos, variants)."""
    words = sorted((t for t in terms if len(t) >= 3), key=len, reverse=True)[:4]
    if not words:
        return {}
    table = Chunk._meta.db_table
    similarity = ", ".join(["word_similarity(%s, search_text)"] * len(words))
    condition = " OR ".join(["%s <%% search_text"] * len(words))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
        cursor.execute(
            f"""SELECT id, {'GREATEST(' + similarity + ')' if len(words) > 1 else similarity} AS sim
                FROM {table} WHERE {condition} ORDER BY sim DESC, id LIMIT %s""",
            [*words, *words, limit],
        )
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def knowledge_search(*, query: str, limit: int = 3) -> list[Passage]:
    """The best passages for `query`, best first, each naming its document."""
    terms = _terms(query)
    scores: dict[int, tuple[float, str]] = {}
    for chunk_id, rank in _fulltext(terms, limit * 4).items():
        scores[chunk_id] = (rank, "fulltext")
    if len(scores) < limit or len(terms) <= 3:
        for chunk_id, similarity in _trigram(terms, limit * 4).items():
            weighted = similarity * 0.6
            if chunk_id in scores:
                scores[chunk_id] = (scores[chunk_id][0] + weighted, "both")
            else:
                scores[chunk_id] = (weighted, "trigram")
    if not scores:
        return []
    best = sorted(scores.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    rows = {chunk.pk: chunk for chunk in Chunk.objects.select_related("document").filter(
        pk__in=[chunk_id for chunk_id, _ in best], document__status=Document.Status.READY)}
    return [Passage(chunk_id=chunk_id, document_id=rows[chunk_id].document_id, title=rows[chunk_id].document.title,
                    text=rows[chunk_id].text, score=round(score, 4), method=method)
            for chunk_id, (score, method) in best if chunk_id in rows]


def documents_list() -> list[Document]:
    return list(Document.objects.all())
