"""What a built-in turn costs the database, and the bookkeeping that made it cheaper keeping its guarantees.

The statement counts are measured here (CaptureQueriesContext around a real turn, after-commit work included),
against ceilings: a change that adds queries to every turn (a lookup per message, a savepoint per service, a
mirror rebuilt from the database after each usage) fails this file instead of slowing every channel silently.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.agents import engine
from apps.agents.engine import turn_run
from apps.billing import gate
from apps.billing.usage import gate_state
from apps.conversations.models import Conversation, Message
from apps.core.redis import get_redis
from apps.events import routes
from apps.events.models import Event, WebhookDelivery, WebhookEndpoint
from apps.events.services import event_record
from apps.knowledge.services import documents_import

pytestmark = pytest.mark.django_db

# Ceilings per kind of turn, in statements, BEGIN/COMMIT not counted; inside the test's transaction the engine's
# one transaction is a savepoint (SAVEPOINT + RELEASE: two statements a real turn does not have).
CEILINGS = {"greeting": 12, "knowledge": 16, "booking": 14, "small talk": 12}
TURNS = {"greeting": "Bonjour", "knowledge": "Vous prenez la carte vitale ?",
         "booking": "Je voudrais un rendez-vous mardi", "small talk": "Merci beaucoup"}


def _statements(captured):
    return [query["sql"] for query in captured if query["sql"] not in ("BEGIN", "COMMIT")]


@pytest.fixture
def ready(cast, agent_a, start, django_capture_on_commit_callbacks):
    with tenant_context(cast.client_a):
        documents_import(rows=[{"title": "Carte vitale", "text": "Nous acceptons la carte vitale et le tiers payant."}],
                         language="fr")
    warm = start(cast.client_a, agent_a)
    with django_capture_on_commit_callbacks(execute=True):  # built once: the caps' mirror, the routes, the
        turn_run(client=cast.client_a, conversation_id=warm.pk, text=TURNS["knowledge"])  # search's statistics
    return cast


@pytest.mark.parametrize("kind", list(TURNS))
def test_it_keeps_a_turn_under_its_statement_ceiling(ready, agent_a, start, kind,
                                                     django_capture_on_commit_callbacks):
    conversation = start(ready.client_a, agent_a)
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        events = turn_run(client=ready.client_a, conversation_id=conversation.pk, text=TURNS[kind])
    statements = _statements(captured.captured_queries)
    assert events[-1].text
    assert len(statements) <= CEILINGS[kind], "\n".join(statements)
    # one transaction for the whole turn: the only savepoint is the test's own nesting of it
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1, "\n".join(statements)
    assert not [sql for sql in statements if "events_webhookendpoint" in sql]  # routes come from the cache
    assert not [sql for sql in statements if "usage_wallet" in sql]  # the mirror was decremented, not rebuilt


def test_a_question_asked_again_is_answered_without_searching_again(ready, agent_a, start,
                                                                   django_capture_on_commit_callbacks):
    """The knowledge base's import committed (its callbacks run and leave the list, as a commit does), the same
    question is answered from the process's kept search: two statements fewer than a knowledge turn's."""
    from apps.knowledge import search_cache

    waiting = [entry for entry in connection.run_on_commit if isinstance(entry[1], search_cache._Changed)]
    connection.run_on_commit[:] = [entry for entry in connection.run_on_commit if entry not in waiting]
    for _savepoints, callback, _robust in waiting:
        with tenant_context(ready.client_a):
            callback()
    with django_capture_on_commit_callbacks(execute=True):  # kept by this turn
        first = turn_run(client=ready.client_a, conversation_id=start(ready.client_a, agent_a).pk,
                         text=TURNS["knowledge"])
    conversation = start(ready.client_a, agent_a)
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks(execute=True):
        events = turn_run(client=ready.client_a, conversation_id=conversation.pk, text=TURNS["knowledge"])
    statements = _statements(captured.captured_queries)
    assert events[-1].text == first[-1].text and "carte vitale" in events[-1].text.lower()
    searched = [sql for sql in statements if any(table in sql for table in ("knowledge_chunk", "knowledge_word",
                                                                               "knowledge_document"))]
    assert not searched, "\n".join(statements)
    assert len(statements) <= CEILINGS["knowledge"] - 2, "\n".join(statements)


def test_a_turn_still_writes_everything(ready, agent_a, start, django_capture_on_commit_callbacks):
    conversation = start(ready.client_a, agent_a)
    with django_capture_on_commit_callbacks(execute=True):
        done = turn_run(client=ready.client_a, conversation_id=conversation.pk, text=TURNS["knowledge"])[-1]
    with tenant_context(ready.client_a):
        rows = list(Message.objects.filter(conversation=conversation).order_by("id").values_list("role", flat=True))
        assert rows == ["user", "tool", "assistant"]
        created = [event.data for event in Event.objects.filter(type="message.created").order_by("id")
                   if event.data["conversation_id"] == conversation.pk]
        assert [data["role"] for data in created] == ["user", "assistant"]  # the visitor's message is an event
        assert created[1]["id"] == done.message_id
        stored = Conversation.objects.get(pk=conversation.pk)
        assert stored.outcome == "answered" and stored.last_activity > conversation.last_activity
        from apps.usage.models import UsageRecord

        assert UsageRecord.objects.filter(key=f"turn:{done.message_id}", included=1).exists()


def test_the_mirror_decremented_in_place_matches_the_database(ready, agent_a, start,
                                                               django_capture_on_commit_callbacks):
    for _ in range(3):
        conversation = start(ready.client_a, agent_a)
        with django_capture_on_commit_callbacks(execute=True):
            turn_run(client=ready.client_a, conversation_id=conversation.pk, text="Bonjour")
    mirrored = gate.gate_check(ready.client_a.pk, "chat_turns", 1)
    with tenant_context(ready.client_a):
        truth = gate_state(ready.client_a)["remaining"]["chat_turns"]
    assert mirrored is not None and mirrored.remaining == truth
    assert truth == ready.client_a.plan.chat_turns - 4  # the warm-up turn and these three


def test_a_failed_builtin_turn_keeps_the_visitors_message(cast, agent_a, start, monkeypatch,
                                                          django_capture_on_commit_callbacks):
    conversation = start(cast.client_a, agent_a)

    def broken(*args, **kwargs):
        raise RuntimeError("the built-in engine broke")

    monkeypatch.setattr(engine, "_builtin_rounds", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        turn_run(client=cast.client_a, conversation_id=conversation.pk, text="Bonjour")
    with tenant_context(cast.client_a):
        assert list(Message.objects.filter(conversation=conversation).values_list("role", "text")) == [
            ("user", "Bonjour")]
        assert Event.objects.filter(type="message.created", data__conversation_id=conversation.pk).count() == 1


# --- the cached webhook routes -------------------------------------------------------------------------------


def test_a_new_endpoint_gets_the_next_event_though_the_routes_were_cached(cast):
    with tenant_context(cast.client_a):
        event_record(type="ticket.created", data={"id": 1})  # nobody listens: the empty routes are cached
        assert routes.routes_for("ticket.created") == []
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/a", secret_encrypted="whsec_x",
                                                  event_types=["ticket.created"])
        event = event_record(type="ticket.created", data={"id": 2})
        assert list(WebhookDelivery.objects.filter(event=event).values_list("endpoint_id", flat=True)) == [
            endpoint.pk]
        assert not WebhookDelivery.objects.filter(event=event_record(type="lead.created", data={"id": 3})).exists()
        endpoint.enabled = False
        endpoint.save()
        assert not WebhookDelivery.objects.filter(event=event_record(type="ticket.created", data={"id": 4})).exists()


def test_an_auto_disabled_endpoint_gets_no_more_deliveries(cast):
    from apps.events.sending import _endpoint_auto_disable

    with tenant_context(cast.client_a):
        endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/a", secret_encrypted="whsec_x")
        assert WebhookDelivery.objects.filter(event=event_record(type="ticket.created", data={"id": 1})).exists()
        _endpoint_auto_disable(endpoint_id=endpoint.pk, reason=WebhookEndpoint.DisabledReason.GONE)
        assert not WebhookDelivery.objects.filter(event=event_record(type="ticket.created", data={"id": 2})).exists()


def test_routes_read_across_a_change_are_not_kept(cast, monkeypatch):
    """A reader whose database read happened while an endpoint changed must not store what it read."""
    with tenant_context(cast.client_a):
        keys = routes._keys(connection)
        read = routes._read_database

        def read_while_it_changes():
            found = read()
            routes._bump(keys)  # another process committed an endpoint change meanwhile
            return found

        monkeypatch.setattr(routes, "_read_database", read_while_it_changes)
        assert routes.routes_for("ticket.created") == []
        assert get_redis().get(keys[0]) is None
        monkeypatch.setattr(routes, "_read_database", read)
        assert routes.routes_for("ticket.created") == []
        assert get_redis().get(keys[0]) is not None  # an undisturbed read is kept


def test_the_routes_belong_to_one_client(cast):
    with tenant_context(cast.client_a):
        WebhookEndpoint.objects.create(url="https://hooks.example.com/a", secret_encrypted="whsec_x")
        assert len(routes.routes_for("ticket.created")) == 1
    with tenant_context(cast.client_b):
        assert routes.routes_for("ticket.created") == []
        assert not WebhookDelivery.objects.filter(event=event_record(type="ticket.created", data={"id": 1})).exists()


def test_the_cache_reuses_one_redis_client_per_pool():
    """Django's cache built a redis.Redis (~0.3 ms of CPU) for every get and set; one per pool now serves them."""
    from django.core.cache import cache

    cache.set("turn-cost-probe", 1, 5)
    assert cache.get("turn-cost-probe") == 1
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
