"""The inbox: takeover through the real widget API (the agent stays silent, the visitor gets the person's reply),
hand-back, assignment, notes, unread counts, notifications, one query for the list, isolation and bad input."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.agents import engine
from apps.audit.models import AuditEvent
from apps.conversations import services
from apps.conversations.live import presence_touch
from apps.conversations.models import Conversation, Message, Note
from apps.conversations.selectors import inbox_conversations, inbox_filters, inbox_unread_count
from apps.core.errors import InvalidInput, NotFound, PermissionDenied
from apps.integrations.models import Delivery
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent
from tests.conftest import host_of

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example"


@pytest.fixture
def widget(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)
    return cast


def visitor(method, path, cast, token=None, body=None):
    headers = {"HTTP_ACCEPT": "application/json", "HTTP_X_VOCALIA_KEY": cast.pk_a, "HTTP_ORIGIN": SHOP}
    if token:
        headers["HTTP_X_VOCALIA_TOKEN"] = token
    if method == "GET":
        return HttpClient().get(f"/widget/v1/{path}", **headers)
    return HttpClient().post(f"/widget/v1/{path}", json.dumps(body or {}), content_type="application/json",
                             **headers)


def open_conversation(cast, language="fr"):
    response = visitor("POST", "conversations", cast, body={"language": language, "visitor": "v1"})
    assert response.status_code == 201, response.content
    return response.json()


def say(cast, token, text):
    response = visitor("POST", "messages", cast, token=token, body={"text": text})
    assert response.status_code == 200, response.content
    return response.json()


def messages_of(client, conversation_id, role):
    with tenant_context(client):
        return list(Message.objects.filter(conversation_id=conversation_id, role=role).values_list("text", flat=True))


def test_it_keeps_the_agent_silent_once_a_member_takes_over_and_the_visitor_gets_the_reply(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    first = say(cast, opened["token"], "Quels sont vos horaires ?")
    assert first["reply"]  # the agent answers before the takeover
    answers_before = messages_of(cast.client_a, opened["conversation"], Message.Role.ASSISTANT)

    alice = as_user(cast.alice, cast.client_a)
    response = alice.post(f"/inbox/{opened['conversation']}/takeover/")
    assert response.status_code == 302

    second = say(cast, opened["token"], "Je voudrais parler à quelqu'un")
    assert second["reply"] == ""
    assert {"type": "human", "active": True} in second["events"]
    assert messages_of(cast.client_a, opened["conversation"], Message.Role.ASSISTANT) == answers_before
    assert "Je voudrais parler à quelqu'un" in messages_of(cast.client_a, opened["conversation"], Message.Role.USER)

    response = alice.post(f"/inbox/{opened['conversation']}/reply/", {"text": "Bonjour, ici Alice. Je vous écoute."},
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content

    updates = visitor("GET", "updates?after=0", cast, token=opened["token"]).json()
    assert updates["human"] is True
    kinds = [(m["role"], m["text"]) for m in updates["messages"]]
    assert kinds[0][0] == "notice" and "a rejoint la conversation" in kinds[0][1]  # told in French, its language
    assert kinds[1] == ("member", "Bonjour, ici Alice. Je vous écoute.")
    assert "email" not in json.dumps(updates) and "alice@a.test" not in json.dumps(updates)
    # polling again after the last one seen returns nothing new
    last = updates["messages"][-1]["id"]
    assert visitor("GET", f"updates?after={last}", cast, token=opened["token"]).json()["messages"] == []
    history = visitor("GET", "history", cast, token=opened["token"]).json()
    assert history["human"] is True and history["messages"][-1]["role"] == "member"
    with tenant_context(cast.client_a):
        conversation = Conversation.objects.get(pk=opened["conversation"])
        assert conversation.taken_over_by_id == cast.alice.pk and conversation.assignee_id == cast.alice.pk
        assert conversation.status == Conversation.Status.OPEN
        actions = set(AuditEvent.objects.filter(target=f"conversation:{conversation.pk}")
                      .values_list("action", flat=True))
    assert {"conversation.taken_over", "conversation.replied"} <= actions


def test_the_voice_path_stays_silent_too(widget):
    cast = widget
    with tenant_context(cast.client_a):
        agent = make_agent(cast.client_a, name="Voice")
        conversation = services.conversation_start(agent=agent, channel="widget_voice", language="en")
        services.conversation_takeover(client=cast.client_a, conversation_id=conversation.pk, actor=cast.bob)
    events = engine.turn_run(client=cast.client_a, conversation_id=conversation.pk, text="what are your hours")
    assert any(isinstance(event, engine.HumanAnswering) for event in events)
    assert not any(isinstance(event, engine.Delta) for event in events)
    assert messages_of(cast.client_a, conversation.pk, Message.Role.ASSISTANT) == []


def test_it_hands_back_to_the_agent(widget, as_user):
    cast = widget
    opened = open_conversation(cast, language="en")
    alice = as_user(cast.alice, cast.client_a)
    assert alice.post(f"/inbox/{opened['conversation']}/reply/", {"text": "Hi, Alice here."}).status_code == 302
    assert alice.post(f"/inbox/{opened['conversation']}/handback/").status_code == 302
    answer = say(cast, opened["token"], "what are your opening hours")
    assert answer["reply"] and {"type": "human", "active": True} not in answer["events"]
    updates = visitor("GET", "updates?after=0", cast, token=opened["token"]).json()
    assert updates["human"] is False
    assert "assistant is back" in updates["messages"][-1]["text"]
    with tenant_context(cast.client_a):
        conversation = Conversation.objects.get(pk=opened["conversation"])
    assert conversation.taken_over_by_id is None and conversation.status == Conversation.Status.PENDING
    # handing back twice says so, and changes nothing
    response = alice.post(f"/inbox/{opened['conversation']}/handback/", HTTP_ACCEPT="application/json")
    assert response.status_code == 400


def test_it_assigns_to_members_only_and_filters_by_assignee(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    alice = as_user(cast.alice, cast.client_a)
    assert alice.post(f"/inbox/{opened['conversation']}/assign/", {"assignee": cast.bob.pk}).status_code == 302
    with tenant_context(cast.client_a):
        mine = inbox_conversations(user_id=cast.bob.pk, filters=inbox_filters({"assigned": "me"}))
        nobodys = inbox_conversations(user_id=cast.bob.pk, filters=inbox_filters({"assigned": "none"}))
        assert [c.pk for c in mine] == [opened["conversation"]] and nobodys == []
        assert AuditEvent.objects.filter(action="conversation.assigned").get().data["assignee"] == cast.bob.pk
    for stranger in (cast.carol.pk, cast.dave.pk, "x", "99999999999999999999999"):
        response = alice.post(f"/inbox/{opened['conversation']}/assign/", {"assignee": stranger},
                              HTTP_ACCEPT="application/json")
        assert response.status_code == 400, stranger
    with tenant_context(cast.client_a):
        assert Conversation.objects.get(pk=opened["conversation"]).assignee_id == cast.bob.pk
    assert alice.post(f"/inbox/{opened['conversation']}/assign/", {"assignee": ""}).status_code == 302
    with tenant_context(cast.client_a):
        assert Conversation.objects.get(pk=opened["conversation"]).assignee_id is None


def test_notes_stay_private(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    say(cast, opened["token"], "Bonjour")
    bob = as_user(cast.bob, cast.client_a)
    response = bob.post(f"/inbox/{opened['conversation']}/note/", {"text": "Client fidèle, proposer un geste"})
    assert response.status_code == 302
    page = bob.get(f"/inbox/{opened['conversation']}/")
    assert "Client fidèle, proposer un geste" in page.content.decode()
    for path in ("history", "updates?after=0"):
        assert "Client fidèle" not in visitor("GET", path, cast, token=opened["token"]).content.decode()
    with tenant_context(cast.client_a):
        assert Note.objects.get().author_id == cast.bob.pk
        conversation = Conversation.objects.get(pk=opened["conversation"])
        assert "Client fidèle" not in json.dumps(engine._history(conversation))
        assert AuditEvent.objects.filter(action="conversation.note_added").exists()


def test_unread_counts_are_per_member(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    with tenant_context(cast.client_a):
        services.conversation_takeover(client=cast.client_a, conversation_id=opened["conversation"], actor=cast.alice)
        services.conversation_assign(client=cast.client_a, conversation_id=opened["conversation"], assignee_id=None,
                                     actor=cast.alice)
    say(cast, opened["token"], "Un")
    say(cast, opened["token"], "Deux")

    def unread(user):
        with tenant_context(cast.client_a):
            row = inbox_conversations(user_id=user.pk, filters=inbox_filters({}))[0]
            return row.unread, inbox_unread_count(user_id=user.pk)

    assert unread(cast.alice) == (2, 1) and unread(cast.bob) == (2, 1)
    page = as_user(cast.bob, cast.client_a).get(f"/inbox/{opened['conversation']}/")
    assert page.status_code == 200
    assert unread(cast.bob) == (0, 0) and unread(cast.alice) == (2, 1)
    say(cast, opened["token"], "Trois")
    assert unread(cast.bob) == (1, 1)
    # the nav badge of every dashboard page
    home = as_user(cast.alice, cast.client_a).get("/")
    assert b'data-inbox-badge title="Unread conversations">1<' in home.content
    # unread only
    with tenant_context(cast.client_a):
        assert inbox_conversations(user_id=cast.bob.pk, filters=inbox_filters({"unread": "1"}))


def test_the_list_and_its_unread_counts_are_one_query(widget):
    cast = widget

    def measure():
        with tenant_context(cast.client_a):
            Conversation.objects.exists()  # the schema's search_path is set once per connection, before measuring
            with CaptureQueriesContext(connection) as queries:
                rows = inbox_conversations(user_id=cast.alice.pk, filters=inbox_filters({}))
                [(row.unread, row.preview, row.agent.name, row.assignee) for row in rows]
        return len(rows), len(queries)

    for _round in range(2):
        with tenant_context(cast.client_a):
            agent = make_agent(cast.client_a, name=f"A{_round}")
            for n in range(4):
                conversation = services.conversation_start(agent=agent, channel="widget_text", language="fr")
                services.visitor_message_add(conversation=conversation, text=f"hello {n}")
                services.conversation_assign(client=cast.client_a, conversation_id=conversation.pk,
                                             assignee_id=cast.bob.pk, actor=cast.alice)
        count, queries = measure()
        assert count == 4 * (_round + 1) and queries == 1


def test_the_assignee_is_told_by_email_when_not_online(widget):
    cast = widget
    with tenant_context(cast.client_a):
        agent = make_agent(cast.client_a, name="Mail")
        conversation = services.conversation_start(agent=agent, channel="widget_text", language="fr")
        services.conversation_assign(client=cast.client_a, conversation_id=conversation.pk, assignee_id=cast.bob.pk,
                                     actor=cast.alice)
        services.visitor_message_add(conversation=conversation, text="Vous êtes là ?")  # within ten minutes: no 2nd
        mails = list(Delivery.objects.filter(channel="email", to="bob@a.test"))
        assert len(mails) == 1 and f"/inbox/{conversation.pk}/" in mails[0].body
        # online (a dashboard socket open): told live, no e-mail
        other = services.conversation_start(agent=agent, channel="widget_text", language="fr")
        presence_touch(schema=cast.client_a.schema_name, user_id=cast.bob.pk, socket="test-socket")
        services.conversation_assign(client=cast.client_a, conversation_id=other.pk, assignee_id=cast.bob.pk,
                                     actor=cast.alice)
        assert Delivery.objects.filter(channel="email", to="bob@a.test").count() == 1
        # assigning oneself tells nobody
        third = services.conversation_start(agent=agent, channel="widget_text", language="fr")
        services.conversation_assign(client=cast.client_a, conversation_id=third.pk, assignee_id=cast.alice.pk,
                                     actor=cast.alice)
        assert not Delivery.objects.filter(to="alice@a.test").exists()


def test_a_reply_on_a_message_channel_is_a_delivery(widget):
    cast = widget
    with tenant_context(cast.client_a):
        agent = make_agent(cast.client_a, name="Sms")
        sms = Conversation.objects.create(agent=agent, channel="sms", language="fr", visitor_phone="+33612345678")
        services.conversation_reply_send(client=cast.client_a, conversation_id=sms.pk, text="On vous rappelle",
                                         actor=cast.bob)
        mail = Conversation.objects.create(agent=agent, channel="email", language="fr", visitor_email="p@x.test",
                                           metadata={"subject": "Rendez-vous"})
        services.conversation_reply_send(client=cast.client_a, conversation_id=mail.pk, text="C'est noté",
                                         actor=cast.bob)
        sent = {(d.channel, d.to, d.subject, d.body) for d in Delivery.objects.filter(conversation__in=[sms, mail])}
        assert sent == {("sms", "+33612345678", "", "On vous rappelle"),
                        ("email", "p@x.test", "Re: Rendez-vous", "C'est noté")}
        phone = Conversation.objects.create(agent=agent, channel="phone", language="fr")
        with pytest.raises(Exception, match="cannot be answered in writing"):
            services.conversation_reply_send(client=cast.client_a, conversation_id=phone.pk, text="x", actor=cast.bob)
        assert not Message.objects.filter(conversation=phone).exists()


def test_another_clients_member_can_neither_see_nor_act(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    conversation_id = opened["conversation"]
    carol_on_b = as_user(cast.carol, cast.client_b)
    carol_on_a = HttpClient(HTTP_HOST=host_of(cast.client_a))
    carol_on_a.force_login(cast.carol, backend="django.contrib.auth.backends.ModelBackend")
    for http in (carol_on_b, carol_on_a):
        assert http.get(f"/inbox/{conversation_id}/").status_code == 404
        for action, data in (("takeover", {}), ("handback", {}), ("reply", {"text": "hi"}), ("note", {"text": "n"}),
                             ("assign", {"assignee": cast.carol.pk}), ("status", {"status": "resolved"})):
            assert http.post(f"/inbox/{conversation_id}/{action}/", data).status_code == 404, action
    assert "Bonjour" not in carol_on_b.get("/inbox/").content.decode()
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):
            services.conversation_takeover(client=cast.client_a, conversation_id=conversation_id, actor=cast.carol)
        with pytest.raises(NotFound):
            services.conversation_takeover(client=cast.client_a, conversation_id=10**12, actor=cast.alice)
        conversation = Conversation.objects.get(pk=conversation_id)
        assert conversation.taken_over_by_id is None and conversation.assignee_id is None
        assert conversation.status == Conversation.Status.PENDING
        assert not Note.objects.exists()
        assert not Message.objects.filter(conversation=conversation, role__in=["member", "notice"]).exists()
        assert not AuditEvent.objects.filter(action__startswith="conversation.").exists()


@pytest.mark.parametrize("text, status", [("", 400), ("   ", 400), ("x" * 4001, 413)])
def test_it_refuses_bad_replies_and_notes(widget, as_user, text, status):
    cast = widget
    opened = open_conversation(cast)
    alice = as_user(cast.alice, cast.client_a)
    for action in ("reply", "note"):
        response = alice.post(f"/inbox/{opened['conversation']}/{action}/", {"text": text},
                              HTTP_ACCEPT="application/json")
        assert response.status_code == status, (action, response.content)
    with tenant_context(cast.client_a):
        assert not Message.objects.filter(role="member").exists() and not Note.objects.exists()
        assert Conversation.objects.get(pk=opened["conversation"]).taken_over_by_id is None


def test_it_strips_nul_bytes_and_refuses_other_bad_input(widget, as_user):
    cast = widget
    opened = open_conversation(cast)
    alice = as_user(cast.alice, cast.client_a)
    assert alice.post(f"/inbox/{opened['conversation']}/note/", {"text": "a\x00b"}).status_code == 302
    with tenant_context(cast.client_a):
        assert Note.objects.get().text == "ab"
    response = alice.post(f"/inbox/{opened['conversation']}/status/", {"status": "exploded"},
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert alice.get(f"/inbox/{10**30}/").status_code == 404
    assert alice.post(f"/inbox/{10**30}/takeover/").status_code == 404
    assert alice.get("/inbox/?status=%00&channel=%ED%A0%80&assigned=9&unread=yes").status_code == 200
    # a lone surrogate reaching a service (not through a form, which decodes it as U+FFFD) is refused by name
    with tenant_context(cast.client_a), pytest.raises(InvalidInput, match="text"):
        services.conversation_reply_send(client=cast.client_a, conversation_id=opened["conversation"],
                                         text="hi \ud800", actor=cast.alice)
    response = alice.post(f"/inbox/{opened['conversation']}/reply/", b"text=%ED%A0%80",
                          content_type="application/x-www-form-urlencoded", HTTP_ACCEPT="application/json")
    assert response.status_code in (200, 400)  # Django decodes the broken bytes as U+FFFD: never a 500
    assert alice.get("/inbox/?status=nope&channel=nope&assigned=nope").status_code == 200
    assert alice.get(f"/inbox/{opened['conversation']}/takeover/").status_code == 405
    for after in ("abc", "1e9", "-1", str(10**30), "%ED%A0%80", "%00"):
        response = visitor("GET", f"updates?after={after}", cast, token=opened["token"])
        assert response.status_code == 400, after
    assert visitor("GET", "updates?after=0", cast, token="forged").status_code == 401


def test_the_widget_polls_within_its_own_limit(widget, settings):
    cast = widget
    settings.WIDGET_POLLS_PER_MINUTE = 3
    opened = open_conversation(cast)
    codes = [visitor("GET", "updates?after=0", cast, token=opened["token"]).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert say(cast, opened["token"], "Bonjour")["reply"]  # the visitor can still write


def test_the_agent_handing_over_opens_the_conversation_and_ending_it_resolves_it(widget):
    cast = widget
    with tenant_context(cast.client_a):
        agent = make_agent(cast.client_a, name="Status")
        handed = services.conversation_start(agent=agent, channel="widget_text", language="fr")
        services.conversation_set_outcome(conversation=handed, outcome=Conversation.Outcome.HANDOVER)
        ended = services.conversation_start(agent=agent, channel="widget_text", language="fr")
        services.conversation_set_outcome(conversation=ended, outcome=Conversation.Outcome.ENDED)
        assert Conversation.objects.get(pk=handed.pk).status == Conversation.Status.OPEN
        assert Conversation.objects.get(pk=ended.pk).status == Conversation.Status.RESOLVED
        listed = [c.pk for c in inbox_conversations(user_id=cast.alice.pk, filters=inbox_filters({}))]
        assert handed.pk in listed and ended.pk not in listed  # the default list: open and pending
        assert ended.pk in [c.pk for c in inbox_conversations(user_id=cast.alice.pk,
                                                               filters=inbox_filters({"status": "resolved"}))]
