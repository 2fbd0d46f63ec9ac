"""Knowledge retrieval quality per language on labelled questions (bench/data/retrieval_<lang>.json).

    .venv/bin/python bench/retrieval.py

Each language's documents go into a throw-away client's knowledge base; every question is searched
and its top 3 distinct documents compared with the labels.
- precision@3: relevant documents among those returned (at most 3), averaged over questions;
- hit@3: share of questions with a relevant document in the top 3;
- MRR: mean reciprocal rank of the first relevant document.
Last line: {"precision_at_3": {...}, "hit_at_3": {...}, "mrr": {...}}
"""

from __future__ import annotations

import json
from pathlib import Path

from _clients import bench_client
from _setup import emit  # noqa: I001  (sets up Django first)
from django_tenants.utils import tenant_context

from apps.knowledge.models import Document
from apps.knowledge.selectors import knowledge_search
from apps.knowledge.services import documents_import

DATA = Path(__file__).resolve().parent / "data"
LANGUAGES = ["fr", "en", "es", "ar", "ary"]


def evaluate(language: str) -> tuple[float, float, float, int]:
    data = json.loads((DATA / f"retrieval_{language}.json").read_text(encoding="utf-8"))
    with bench_client(f"bench-retrieval-{language}", language=language) as client, tenant_context(client):
        documents_import(rows=[{"title": d["title"], "text": d["text"]} for d in data["documents"]],
                         language=language)
        ids = {document.title: original["id"] for document, original in
               zip(Document.objects.order_by("id"), data["documents"], strict=True)}
        precision = hits = reciprocal = 0.0
        for question in data["questions"]:
            ranked: list[str] = []
            for passage in knowledge_search(query=question["q"], limit=6):
                doc_id = ids[passage.title]
                if doc_id not in ranked:
                    ranked.append(doc_id)
            top = ranked[:3]
            relevant = set(question["relevant"])
            if top:
                precision += len(relevant & set(top)) / len(top)
            hits += 1.0 if relevant & set(top) else 0.0
            reciprocal += next((1 / (rank + 1) for rank, doc in enumerate(ranked) if doc in relevant), 0.0)
        count = len(data["questions"])
    return precision / count, hits / count, reciprocal / count, count


def main() -> None:
    figures: dict[str, dict[str, float]] = {"precision_at_3": {}, "hit_at_3": {}, "mrr": {}}
    for language in LANGUAGES:
        precision, hit, mrr, count = evaluate(language)
        figures["precision_at_3"][language] = round(precision, 3)
        figures["hit_at_3"][language] = round(hit, 3)
        figures["mrr"][language] = round(mrr, 3)
        print(f"{language:<4} {count:3d} questions  precision@3 {precision:.3f}  hit@3 {hit:.3f}  MRR {mrr:.3f}")
    emit(figures)


if __name__ == "__main__":
    main()
