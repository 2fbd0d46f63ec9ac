"""Issue 8 (HTTP side): each class of bad input a fuzzer found answers 4xx with a clear message, never 500.

NUL bytes and lone surrogates, JSON nested deep or with huge numbers, fields of the wrong type, malformed
Origin headers, dates Python can parse but not add a week to, a zero-minute appointment, a NUL in an
uploaded file. The random mutations of the same classes are in tests/test_fuzz_http.py; the pooled
connections a failing request used to keep, in tests/test_pool_release.py.
"""

from __future__ import annotations

import sys
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory
from django_tenants.utils import tenant_context

from apps.agents.engine import ToolReturned, TurnDone, turn_run
from apps.agents.models import Agent
from apps.bookings.services import slots_available
from apps.conversations.models import Conversation
from apps.conversations.services import conversation_start
from apps.crm.models import Lead
from apps.knowledge.models import Document
from apps.widget.models import WidgetRejection, WidgetSettings, WidgetSighting
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent
from tests.widget.test_api import SHOP, call, start

pytestmark = pytest.mark.django_db

SURROGATE = '"a\\ud800b"'  # JSON text: a lone surrogate, escaped
DEEP = b"[" * 5000 + b"]" * 5000
HUGE = b'{"page": ' + b"9" * 5000 + b"}"


@pytest.fixture
def widget(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)
    return cast


def _error(response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


# --- widget bodies -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, field", [("conversations", "visitor"), ("conversations", "language"),
                                         ("conversations", "page"), ("seen", "page"), ("leads", "name"),
                                         ("leads", "message"), ("messages", "text")])
def test_it_refuses_a_lone_surrogate_in_any_widget_field_by_name(widget, path, field):
    token = start(widget)["token"] if path == "messages" else None
    response = call("POST", path, widget.pk_a, raw=f'{{"{field}": {SURROGATE}}}', token=token)
    status, code, message = _error(response)
    assert (status, code) == (400, "invalid_input")
    assert f"“{field}”" in message


def test_it_strips_nul_bytes_and_stores_the_rest(widget):
    assert call("POST", "seen", widget.pk_a, raw='{"page": "https://shop.example/a\\u0000b"}').status_code == 200
    assert WidgetSighting.objects.get(client=widget.client_a).page_url == "https://shop.example/ab"
    response = call("POST", "leads", widget.pk_a, raw='{"name": "Ma\\u0000rie", "email": "m@example.com"}')
    assert response.status_code == 201
    with tenant_context(widget.client_a):
        assert Lead.objects.get(pk=response.json()["lead"]).name == "Marie"


@pytest.mark.parametrize("path", ["conversations", "seen", "leads", "messages"])
@pytest.mark.parametrize("raw, expected", [(DEEP, "nested too deeply"), (HUGE, "too large"),
                                           (b'{"page": 1e999}', "too large"), (b'{"page": NaN}', "not valid JSON"),
                                           (b"\xff\xfe{}", "not valid UTF-8"), (b'{"page": "x"', "not valid JSON")])
def test_it_refuses_deep_huge_or_broken_json_on_every_widget_post(widget, path, raw, expected):
    token = start(widget)["token"] if path == "messages" else None
    status, code, message = _error(call("POST", path, widget.pk_a, raw=raw, token=token))
    assert (status, code) == (400, "invalid_input")
    assert expected in message


@pytest.mark.parametrize("path, body, field", [
    ("conversations", {"visitor": 5}, "visitor"), ("conversations", {"language": ["fr"]}, "language"),
    ("conversations", {"context": 5}, "context"), ("conversations", {"context": "x"}, "context"),
    ("conversations", {"page": {"a": 1}}, "page"), ("seen", {"page": ["x"]}, "page"),
    ("seen", {"page": True}, "page"), ("leads", {"email": 5}, "email"), ("leads", {"phone": [1]}, "phone"),
])
def test_it_refuses_a_field_of_the_wrong_type_by_name(widget, path, body, field):
    status, code, message = _error(call("POST", path, widget.pk_a, body=body))
    assert (status, code) == (400, "invalid_input")
    assert f"“{field}”" in message


def test_it_refuses_a_message_that_is_not_text(widget):
    token = start(widget)["token"]
    for body in ({"text": ["hi"]}, {"text": 5}, {}, {"text": {"a": "b"}}):
        response = call("POST", "messages", widget.pk_a, body=body, token=token)
        assert response.status_code == 400, body


def test_it_refuses_a_body_that_is_not_an_object(widget):
    for raw in ("[]", "5", '"text"', "null"):
        status, _code, message = _error(call("POST", "seen", widget.pk_a, raw=raw))
        assert status == 400 and "JSON object" in message


# --- origins ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["http://[::1", "https://[shop.example", "http://[::1]:99999",
                                    "https://shop.example\x00", "https://sh\nop.example", "https://" + "a" * 5000])
@pytest.mark.parametrize("method, path", [("GET", "config"), ("GET", "history"), ("POST", "conversations"),
                                          ("POST", "messages"), ("POST", "seen"), ("POST", "leads")])
def test_it_refuses_a_malformed_origin_on_every_endpoint(widget, origin, method, path):
    response = call(method, path, widget.pk_a, origin=origin, body={"text": "hi"})
    status, code, _message = _error(response)
    assert (status, code) == (403, "origin_not_allowed")
    printable = origin.isascii() and origin.isprintable() and " " not in origin
    assert response.get("Access-Control-Allow-Origin") == (origin if printable else None)
    rejection = WidgetRejection.objects.get(client=widget.client_a, reason="origin_not_allowed")
    assert "\x00" not in rejection.origin and "\n" not in rejection.origin and len(rejection.origin) <= 300


@pytest.mark.parametrize("origin", ["http://[::1", "https://[x.example]:abc", "https://sh\top.example"])
def test_it_refuses_a_malformed_origin_on_the_install_page(cast, as_user, origin):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/install/origins/", {"origin": origin}, follow=True)
    assert response.status_code == 200
    assert "is not a valid domain" in response.content.decode()
    assert WidgetSettings.objects.get(client=cast.client_a).allowed_origins == []


def test_it_strips_a_nul_from_a_domain_typed_on_the_install_page(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    assert alice.post("/install/origins/", {"origin": "https://shop.example\x00"}).status_code == 302
    assert WidgetSettings.objects.get(client=cast.client_a).allowed_origins == ["https://shop.example"]


@pytest.mark.parametrize("signed_in", [True, False])
def test_it_ignores_a_next_url_it_cannot_parse_on_the_sign_in_page(cast, as_user, signed_in):
    http = as_user(cast.alice, cast.client_a) if signed_in else HttpClient(HTTP_HOST="alpha.localhost")
    response = http.get("/accounts/login/?next=http://[::1")
    assert response.status_code == (302 if signed_in else 200)
    if signed_in:
        assert response["Location"] == "/"
    response = HttpClient().post("/accounts/login/?next=http://[::1",
                                 {"login": "alice@a.test", "password": "correct-horse-battery-staple"})
    assert response.status_code == 302 and "[::1" not in response["Location"]


def test_it_reads_invalid_utf8_in_a_form_body_as_text(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post("/install/origins/", b"origin=https%3A%2F%2F%FF%FE.example",
                          content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302
    assert WidgetSettings.objects.get(client=cast.client_a).allowed_origins == []


# --- headers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"HTTP_COOKIE": "sessionid=abcdefgh\x00ij"}, {"HTTP_COOKIE": "sessionid=" + "a" * 5000},
    {"HTTP_COOKIE": "django_language=fr\x00; csrftoken=\x00"}, {"HTTP_HOST": "[::1"},
    {"HTTP_HOST": "a\x00b.localhost"}, {"HTTP_HOST": "x" * 5000}, {"HTTP_HOST": "alpha.localhost:99999999"},
    {"HTTP_ACCEPT_LANGUAGE": "\x00" * 100 + ";q=abc"}, {"HTTP_ACCEPT_LANGUAGE": "fr;q=1e999," * 500},
])
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/widget/v1/config", "/api/v1/me", "/agents/"])
def test_it_answers_forged_headers_without_a_500(cast, headers, path):
    """A session cookie with a NUL was looked up in PostgreSQL as it was: a 500 on every page."""
    response = HttpClient().get(path, **{"HTTP_HOST": "alpha.localhost", **headers})
    assert response.status_code < 500


def test_it_still_reads_a_real_session(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    assert alice.get("/").status_code == 200
    assert len(alice.cookies["sessionid"].value) == 32


# --- the dashboard's test chat --------------------------------------------------------------------------

@pytest.mark.parametrize("payload, expected", [
    (b'{"text": "Bonjour", "conversation": "abc"}', "“conversation”"),
    (b'{"text": "Bonjour", "conversation": [1]}', "“conversation”"),
    (b'{"text": "Bonjour", "conversation": {"id": 1}}', "“conversation”"),
    (b'{"text": "Bonjour", "conversation": ' + b"1" * 40 + b"}", "too large"),
    (b'{"text": ' + SURROGATE.encode() + b"}", "“text”"),
    (b'{"text": ["Bonjour"]}', "“text”"),
    (b'{"text": "Bonjour", "language": 5}', "“language”"),
    (DEEP, "nested too deeply"),
    (b"\xff{}", "not valid UTF-8"),
])
def test_it_refuses_bad_input_in_the_dashboard_chat(cast, as_user, payload, expected):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post(f"/agents/{agent.pk}/chat/", payload, content_type="application/json",
                          HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert expected in response.json()["error"]["message"]


def test_it_accepts_a_conversation_id_as_a_string_of_digits(cast, as_user):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    url = f"/agents/{agent.pk}/chat/"
    first = alice.post(url, {"text": "Bonjour"}, content_type="application/json").json()
    again = alice.post(url, {"text": "Bonjour", "conversation": str(first["conversation"])},
                       content_type="application/json").json()
    assert again["conversation"] == first["conversation"]


# --- dates ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line", ["I'd like to book an appointment on 31/12/9999",
                                  "I'd like to book an appointment on 01/01/0100"])
def test_it_says_it_cannot_book_on_a_day_out_of_reach(widget, line):
    session = start(widget, language="en")
    response = call("POST", "messages", widget.pk_a, body={"text": line}, token=session["token"])
    assert response.status_code == 200, response.content
    assert response.json()["reply"] == "I can't book on that day. Which other day suits you?"


@pytest.mark.parametrize("arguments", [{"date": "9999-12-31"}, {"date": "0001-01-01"},
                                       {"date": "9999-12-31", "time": "23:59"}, {"date": "2026-02-30"}])
def test_it_refuses_availability_on_a_day_out_of_reach(cast, arguments):
    from apps.agents.tools import ToolContext, check_availability
    from apps.core.errors import InvalidInput

    agent = make_agent(cast.client_a)
    with tenant_context(cast.client_a), pytest.raises(InvalidInput):
        check_availability(ToolContext(client=cast.client_a, agent=agent, conversation=None, language="en"),
                           arguments)


@pytest.mark.parametrize("start", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00",
                                   "2026-02-30T10:00:00"])
def test_it_refuses_to_book_or_call_back_at_a_time_out_of_reach(cast, start):
    from apps.agents.tools import ToolContext, book_appointment, schedule_callback
    from apps.core.errors import InvalidInput

    agent = make_agent(cast.client_a)
    with tenant_context(cast.client_a):
        conversation = Conversation.objects.create(agent=agent, channel="widget_text", language="en")
        ctx = ToolContext(client=cast.client_a, agent=agent, conversation=conversation, language="en")
        with pytest.raises(InvalidInput):
            book_appointment(ctx, {"start": start, "name": "Marie", "phone": "0612345678"})
        with pytest.raises(InvalidInput):
            schedule_callback(ctx, {"phone": "0612345678", "when": start})


def test_it_tells_the_engine_a_day_out_of_reach_is_a_tool_failure(cast):
    """Not an OverflowError that ends the turn: the tool fails, and the agent says so."""
    agent = make_agent(cast.client_a)
    with tenant_context(cast.client_a):
        conversation = conversation_start(agent=agent, channel="widget_text", language="en")
    events = turn_run(client=cast.client_a, conversation_id=conversation.pk,
                      text="I'd like to book an appointment on 31/12/9999 at 10h")
    assert any(isinstance(event, ToolReturned) and not event.ok for event in events)
    assert isinstance(events[-1], TurnDone)


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31", "0001-01-07", "9999-12-27"])
def test_it_refuses_a_week_out_of_range_on_the_appointments_page(cast, as_user, week):
    response = as_user(cast.bob, cast.client_a).get(f"/appointments/?week={week}")
    assert response.status_code == 400
    assert f"The date “{week}” is out of range" in response.content.decode()


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=9999-12-31", "from=2026-01-01%00"])
def test_it_refuses_a_filter_date_out_of_range_on_the_conversations_page(cast, as_user, query):
    response = as_user(cast.bob, cast.client_a).get(f"/conversations/?{query}")
    assert response.status_code in (200, 400)
    if "%00" not in query:
        assert response.status_code == 400 and "is out of range" in response.content.decode()


# --- a zero-minute appointment ---------------------------------------------------------------------------

def _agent_form(agent, **changes):
    form = {"name": "Reception", "status": "active", "languages": ["fr", "en"], "default_language": "fr",
            "tools": ["check_availability"], "provider": "builtin", "model": "", "base_url": "",
            "temperature": "0.2", "appointment_minutes": "30", "buffer_minutes": "10", "handover_phone": "",
            "handover_email": "", "hours_mon": "09:00-18:00"}
    form.update(changes)
    return form


def test_it_refuses_a_zero_minute_appointment_in_the_agent_form(cast, as_user):
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post(f"/agents/{agent.pk}/", _agent_form(agent, appointment_minutes="0", buffer_minutes="0"))
    assert response.status_code == 200
    assert "An appointment lasts between 5 and 1440 minutes." in response.content.decode()
    with tenant_context(cast.client_a):
        assert Agent.objects.get(pk=agent.pk).appointment_minutes == 30
    french = as_user(cast.alice, cast.client_a)
    french.cookies["django_language"] = "fr"
    response = french.post(f"/agents/{agent.pk}/", _agent_form(agent, appointment_minutes="0"))
    assert "Un rendez-vous dure entre 5 et 1440 minutes." in response.content.decode()
    assert alice.post(f"/agents/{agent.pk}/", _agent_form(agent, buffer_minutes="0")).status_code == 302


def test_it_refuses_a_nul_in_a_dashboard_text_field(cast, as_user):
    """Django's CharField refuses NUL (ProhibitNullCharactersValidator): the form says so, nothing is saved."""
    agent = make_agent(cast.client_a)
    alice = as_user(cast.alice, cast.client_a)
    response = alice.post(f"/agents/{agent.pk}/", _agent_form(agent, name="Re\x00ception"))
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    with tenant_context(cast.client_a):
        assert Agent.objects.get(pk=agent.pk).name == "Reception"


def test_it_ends_the_availability_loop_for_a_zero_minute_agent(cast):
    """An agent saved with 0 + 0 minutes before the form refused it: no slots, at once."""
    agent = make_agent(cast.client_a, appointment_minutes=0, buffer_minutes=0,
                       business_hours={day: [["09:00", "18:00"]] for day in
                                       ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    found: list[object] = []

    def run() -> None:
        with tenant_context(cast.client_a):
            found.append(slots_available(agent=agent, days=7))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the availability loop did not end"
    assert found == [[]]
    with tenant_context(cast.client_a):
        one_minute = make_agent(cast.client_a, name="Fast", appointment_minutes=1, buffer_minutes=0,
                                business_hours={day: [["00:00", "24:00"]] for day in
                                                ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
        assert len(slots_available(agent=one_minute, days=2, limit=10_000)) <= 2 * 24 * 60


# --- the knowledge base -------------------------------------------------------------------------------------

def test_it_strips_nul_from_an_uploaded_text_file(cast, as_user, django_capture_on_commit_callbacks):
    alice = as_user(cast.alice, cast.client_a)
    upload = SimpleUploadedFile("hours.txt", b"Open\x00 from 9 to 18.\x00", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post("/knowledge/", {"kind": "text", "language": "en", "title": "", "file": upload})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        document = Document.objects.get()
        assert document.raw_text == "Open from 9 to 18."
        assert (document.status, document.title) == (Document.Status.READY, "hours.txt")


def test_it_searches_the_knowledge_base_with_a_nul_in_the_query(cast, as_user):
    assert as_user(cast.bob, cast.client_a).get("/knowledge/?q=open%00hours").status_code == 200


# --- the 500 page itself -------------------------------------------------------------------------------------

def test_it_renders_the_debug_page_with_a_lone_surrogate(rf: RequestFactory):
    from apps.core.errors import PrintableExceptionReporter

    request = rf.post("/widget/v1/seen", data=b'{"page": "x"}', content_type="application/json")
    request.GET = request.GET.copy()
    request.GET["page"] = "a\ud800b"
    try:
        page = "a\ud800b"
        raise UnicodeEncodeError("utf-8", page, 1, 2, "surrogates not allowed")
    except UnicodeEncodeError:
        reporter = PrintableExceptionReporter(request, *sys.exc_info())
        html, text = reporter.get_traceback_html(), reporter.get_traceback_text()
    assert "a\\ud800b" in html and "a\\ud800b" in text
    assert HttpResponse(html).status_code == 200  # it encodes


def test_it_answers_a_500_even_when_the_500_page_cannot_be_rendered(cast, monkeypatch, rf: RequestFactory):
    from apps.dashboard import views

    monkeypatch.setattr(views, "render", lambda *args, **kwargs: HttpResponse("a\ud800b", status=500))
    response = views.server_error(rf.get("/agents/"))
    assert response.status_code == 500
    assert response.content == b"Something went wrong on our side. It has been logged."


def test_it_keeps_answering_after_a_failure_the_error_handling_could_not_render(cast, as_user, monkeypatch):
    """The last-resort middleware: the view fails, then the 500 page fails; the client still gets a 500."""
    from apps.dashboard import views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views, "render", broken)
    bob = as_user(cast.bob, cast.client_a)
    bob.raise_request_exception = False
    response = bob.get("/team/")
    assert response.status_code == 500
    assert response.content == b"Something went wrong on our side. It has been logged."



# --- slow paths -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["9" * 3999, "Je voudrais un devis " + "9" * 3900 + " euros",
                                  "dans " + "9" * 3900 + " mois"])
def test_it_reads_a_message_of_thousands_of_digits_quickly(text):
    """The longest message a turn takes (AGENT_MAX_TURN_CHARS) once cost two seconds in one regex."""
    import time

    from apps.agents.builtin import nlu

    began = time.perf_counter()
    assert nlu.extract_timeline_days(text) is None
    assert time.perf_counter() - began < 0.5
    assert (nlu.extract_timeline_days("dans 2 mois"), nlu.extract_timeline_days("in 3 weeks")) == (60, 21)
