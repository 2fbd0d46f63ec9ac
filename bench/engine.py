"""Built-in engine turn latency, in process, with a 1,000-document knowledge base.

    .venv/bin/python bench/engine.py [--turns N]

A throw-away client gets an agent and 1,000 documents (the French retrieval set, varied), then
runs a mix of turns: knowledge questions, greetings, booking starts (availability lookups) and
small talk. Each turn is the whole path: store the message, understand, call the tool, store
the reply. Besides the wall-clock times (which a busy machine inflates), it counts the database
statements and Redis commands of a turn and the process's own CPU time per turn, which the machine's load
hardly moves, and breaks them down by kind of turn.

Questions repeat in the mix (44 distinct ones), so by default the process's kept searches
(apps/knowledge/search_cache.py) are emptied before every turn: every search is computed, as for a question
asked for the first time. `--warm` keeps them (a repeated question skips its search): that figure flatters.
Last line: {"p50_ms": …, "p99_ms": …, "queries_per_turn": …, "cpu_p50_ms": …, "cpu_p99_ms": …,
"redis_per_turn": …, "kinds": {kind: {"turns", "p50_ms", "p99_ms", "cpu_p50_ms", "cpu_p99_ms", "queries", "redis"}}}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

from _clients import bench_client
from _setup import emit, percentile  # noqa: I001  (sets up Django first)
from django.db import connection
from django_tenants.utils import tenant_context

from apps.agents.engine import turn_run
from apps.agents.models import Agent
from apps.agents.tools import TOOLS
from apps.conversations.services import conversation_start
from apps.knowledge import search_cache
from apps.knowledge.models import Chunk, Document
from apps.knowledge.services import documents_import

DATA = Path(__file__).resolve().parent / "data" / "retrieval_fr.json"
OPENERS = ["Bonjour", "Je voudrais un rendez-vous mardi", "Merci beaucoup", "Je veux parler à un conseiller",
           "Vous prenez la carte vitale ?"]
KINDS = {"Bonjour": "greeting", "Je voudrais un rendez-vous mardi": "booking start", "Merci beaucoup": "small talk",
         "Je veux parler à un conseiller": "hand-over", "Vous prenez la carte vitale ?": "question"}


def _count_redis(counter: list[int]) -> None:
    """Count the commands this process sends to Redis (redis-py's sync and asyncio connections)."""
    import redis.asyncio.connection as async_connection
    import redis.connection as sync_connection

    sent = sync_connection.AbstractConnection.send_packed_command
    sent_async = async_connection.AbstractConnection.send_packed_command

    def send(self, command, check_health=True):  # noqa: ANN001, ANN202
        counter[0] += 1
        return sent(self, command, check_health)

    async def send_async(self, command, check_health=True):  # noqa: ANN001, ANN202
        counter[0] += 1
        return await sent_async(self, command, check_health)

    sync_connection.AbstractConnection.send_packed_command = send
    async_connection.AbstractConnection.send_packed_command = send_async


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=600)
    parser.add_argument("--warm", action="store_true", help="keep searches between turns (a repeated question "
                                                            "is answered from the kept search)")
    args = parser.parse_args()
    data = json.loads(DATA.read_text(encoding="utf-8"))
    rng = random.Random(7)
    with bench_client("bench-engine") as client, tenant_context(client):
        rows = []
        for index in range(1000):
            source = data["documents"][index % len(data["documents"])]
            sentences = source["text"].split(". ")
            rng.shuffle(sentences)
            rows.append({"title": f"{source['title']} ({index // len(data['documents']) + 1})",
                         "text": ". ".join(sentences)})
        started = time.perf_counter()
        documents_import(rows=rows, language="fr")
        print(f"knowledge base: {Document.objects.count()} documents, {Chunk.objects.count()} passages, "
              f"ingested in {time.perf_counter() - started:.1f} s")
        agent = Agent.objects.create(name="Bench", languages=["fr"], default_language="fr", tools=list(TOOLS),
                                     texts={"fr": {"greeting": "Bonjour !", "closing": "Au revoir"}})
        questions = [q["q"] for q in data["questions"]]
        samples, cpu, statements, commands = [], [], [0], [0]
        kinds: dict[str, dict[str, list[float]]] = {}
        _count_redis(commands)

        def count(execute, sql, params, many, context):
            statements[0] += 1
            return execute(sql, params, many, context)

        queries = redis_commands = 0
        for number in range(args.turns + 30):
            conversation = conversation_start(agent=agent, channel="widget_text", language="fr")
            text = rng.choice(questions) if number % 2 else rng.choice(OPENERS)
            if not args.warm:
                search_cache.forget_all()
            statements[0] = commands[0] = 0
            began, began_cpu = time.perf_counter(), time.process_time()
            with connection.execute_wrapper(count):
                turn_run(client=client, conversation_id=conversation.pk, text=text)
            if number >= 30:  # warm-up turns are not counted
                samples.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
                queries += statements[0]
                redis_commands += commands[0]
                kind = kinds.setdefault(KINDS.get(text, "question"), {"wall": [], "cpu": [], "sql": [], "redis": []})
                for name, value in (("wall", samples[-1]), ("cpu", cpu[-1]), ("sql", statements[0]),
                                    ("redis", commands[0])):
                    kind[name].append(value)
    p50, p99 = percentile(samples, 50), percentile(samples, 99)
    print(f"{len(samples)} turns: p50 {p50:.1f} ms, p90 {percentile(samples, 90):.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(samples):.1f} ms; {queries / len(samples):.1f} statements a turn; CPU of this process "
          f"p50 {percentile(cpu, 50):.1f} ms, p99 {percentile(cpu, 99):.1f} ms; load average "
          f"{os.getloadavg()[0]:.1f}; {redis_commands / len(samples):.1f} Redis commands a turn"
          f"{' (warm: repeated searches kept)' if args.warm else ' (every search computed)'}")
    by_kind = {}
    for name, kind in sorted(kinds.items()):
        figures = {"turns": len(kind["wall"]), "p50_ms": round(percentile(kind["wall"], 50), 2),
                   "p99_ms": round(percentile(kind["wall"], 99), 2),
                   "cpu_p50_ms": round(percentile(kind["cpu"], 50), 2),
                   "cpu_p99_ms": round(percentile(kind["cpu"], 99), 2),
                   "queries": round(sum(kind["sql"]) / len(kind["sql"]), 2),
                   "redis": round(sum(kind["redis"]) / len(kind["redis"]), 2)}
        by_kind[name] = figures
        print(f"  {name:14} {figures['turns']:4} turns: p50 {figures['p50_ms']:6.1f} ms, "
              f"p99 {figures['p99_ms']:6.1f} ms; "
              f"CPU p50 {figures['cpu_p50_ms']:5.1f} ms, p99 {figures['cpu_p99_ms']:5.1f} ms; "
              f"{figures['queries']:.1f} statements, {figures['redis']:.1f} Redis commands")
    emit({"p50_ms": round(p50, 2), "p99_ms": round(p99, 2), "queries_per_turn": round(queries / len(samples), 2),
          "cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p99_ms": round(percentile(cpu, 99), 2),
          "redis_per_turn": round(redis_commands / len(samples), 2), "kinds": by_kind})


if __name__ == "__main__":
    main()
