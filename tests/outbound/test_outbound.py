"""Outbound calls: the rules (do-not-call, consent, calling hours), the sweep that places due calls once, and
Twilio's answer (a person → the agent; a machine → a message, tried again) and status callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator

from apps.audit.models import AuditEvent
from apps.clients.models import Client, Plan
from apps.core.errors import FeatureNotInPlan, InvalidInput, NotFound, PermissionDenied
from apps.crm import services as crm
from apps.crm.models import Callback
from apps.integrations.telephony.memory import MemoryTelephony
from apps.outbound import services
from apps.outbound.models import CallConsent, CallingPolicy, DoNotCall, OutboundCall
from apps.schedule.models import DueWork
from apps.telephony.models import PhoneNumber
from tests.conftest import host_of

pytestmark = pytest.mark.django_db
PUBLIC = "https://calls.example.com"
OUR_NUMBER = "+15550100077"
PERSON = "+33612345678"


def _allow(client: Client) -> Client:
    """The client's plan with outbound calls (and phone calls), and a (twin) number to call from."""
    plan = Plan.objects.get(pk=client.plan_id)
    plan.features = sorted({*plan.features, "outbound_calls", "voice_telephony"})
    plan.save()
    PhoneNumber.objects.get_or_create(e164=OUR_NUMBER if client.slug == "alpha" else "+15550100078",
                                      defaults={"client": client})
    return Client.objects.select_related("plan").get(pk=client.pk)


def _open_all_day() -> None:
    row = services.policy()
    row.start, row.end, row.weekdays = time(0, 0), time(23, 59), [0, 1, 2, 3, 4, 5, 6]
    row.save()


def _signed_post(http, path: str, params: dict[str, str], token: str = "offline-twin"):
    url = PUBLIC + path
    signature = RequestValidator(token).compute_signature(url, params)
    return http.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


# -- The rules ---------------------------------------------------------------------------------------------------

def test_a_plan_without_outbound_calls_refuses(cast):
    with tenant_context(cast.client_a), pytest.raises(FeatureNotInPlan):
        services.outbound_call_request(client=cast.client_a, to=PERSON, reason="Follow-up", actor=cast.alice)


def test_a_member_cannot_call_without_consent_or_a_listed_number(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        with pytest.raises(InvalidInput, match="consent"):
            services.outbound_call_request(client=client, to=PERSON, reason="Follow-up", actor=cast.alice)
        services.dnc_add(client=client, actor=cast.bob, phone=PERSON, reason="asked on the phone")
        with pytest.raises(InvalidInput, match="do-not-call"):
            services.outbound_call_request(client=client, to=PERSON, reason="Follow-up", actor=cast.alice,
                                           consent_source="web form")
        assert not OutboundCall.objects.exists()
        assert not CallConsent.objects.filter(phone=PERSON, withdrawn_at=None).exists()
        for bad in ("", "0612", "+33\x00612345678", "\udcff", "+" + "9" * 40):
            with pytest.raises(InvalidInput):
                services.outbound_call_request(client=client, to=bad, reason="x", consent_source="form",
                                               actor=cast.alice)


def test_consent_is_recorded_with_its_source_and_the_call_waits_for_the_calling_hours(cast):
    client = _allow(cast.client_a)  # Europe/Paris by default
    with tenant_context(client):
        row = services.policy()
        row.start, row.end, row.weekdays = time(9, 0), time(20, 0), [0, 1, 2, 3, 4]
        row.save()
        friday_night = datetime(2026, 12, 4, 22, 30, tzinfo=ZoneInfo(client.timezone))
        call = services.outbound_call_request(client=client, to="+33 6 12 34 56 78", reason="Your quote",
                                              consent_source="quote form, 2 Dec", not_before=friday_night,
                                              actor=cast.alice)
        assert call.status == OutboundCall.Status.SCHEDULED and call.to == PERSON
        # Saturday and Sunday are not calling days: Monday 09:00 Paris.
        assert call.next_attempt_at == datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
        assert CallConsent.objects.get(phone=PERSON).source == "quote form, 2 Dec"
        assert DueWork.objects.get(client_id=client.pk, kind="outbound").next_at == call.next_attempt_at
        assert AuditEvent.objects.filter(action="outbound.call_requested", target=PERSON).exists()


def test_the_calling_window_follows_the_wall_clock_across_a_dst_change(cast):
    with tenant_context(cast.client_a):
        rules = CallingPolicy(start=time(9, 0), end=time(20, 0), weekdays=[0, 1, 2, 3, 4, 5, 6])
        paris = ZoneInfo("Europe/Paris")
        # The night the clocks go back (25 Oct 2026, 03:00 CEST → 02:00 CET): 09:00 is 08:00 UTC, not 07:00.
        before = datetime(2026, 10, 24, 21, 0, tzinfo=paris)
        assert services.window_next(before, rules, paris) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
        spring = datetime(2026, 3, 28, 21, 0, tzinfo=paris)  # clocks go forward on the 29th
        assert services.window_next(spring, rules, paris) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
        inside = datetime(2026, 3, 30, 12, 0, tzinfo=paris)
        assert services.window_next(inside, rules, paris) == inside
        with pytest.raises(InvalidInput):
            services.window_next(inside, CallingPolicy(start=time(20, 0), end=time(9, 0)), paris)


def test_only_managers_take_a_number_off_the_list_and_policy_cannot_be_emptied(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        services.dnc_add(client=client, actor=cast.bob, phone=PERSON)
        with pytest.raises(PermissionDenied):
            services.dnc_remove(client=client, actor=cast.bob, phone=PERSON)
        assert DoNotCall.objects.filter(phone=PERSON).exists()
        services.dnc_remove(client=client, actor=cast.alice, phone=PERSON)
        assert not DoNotCall.objects.filter(phone=PERSON).exists()
        with pytest.raises(NotFound):
            services.dnc_remove(client=client, actor=cast.alice, phone=PERSON)
        with pytest.raises(InvalidInput):
            services.policy_update(client=client, actor=cast.alice, values={"weekdays": [], "start": time(9)})
        assert services.policy().days() == [0, 1, 2, 3, 4, 5]


# -- The agent's callbacks ---------------------------------------------------------------------------------------

def test_a_callback_the_person_asked_for_is_placed_at_its_time_with_their_consent(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        due = timezone.now() + timedelta(hours=2)
        callback = crm.callback_schedule(phone=PERSON, due_at=due, name="Salma", reason="Price of a crown")
        call = OutboundCall.objects.get(callback=callback)
        assert call.purpose == "callback" and call.status == "scheduled" and call.next_attempt_at == due
        assert "callback" in CallConsent.objects.get(phone=PERSON).source
        assert services.outbound_sweep(now=timezone.now())["queued"] == 0  # not yet
        connection.set_schema_to_public()
    with override_settings(PUBLIC_URL=PUBLIC, CELERY_TASK_ALWAYS_EAGER=True):
        result = services.outbound_sweep(now=due + timedelta(seconds=1))
        _commit_hooks()
    assert result == {"clients": 1, "queued": 1}
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "dialing" and call.attempts == 1 and call.from_number == OUR_NUMBER
        placed = MemoryTelephony.calls[call.provider_call_id]
        assert placed["to"] == PERSON and placed["from"] == OUR_NUMBER and placed["machine_detection"] == "True"
        assert placed["url"].startswith(PUBLIC + "/telephony/twilio/outbound/answer?t=")


def test_a_callback_to_a_listed_number_is_kept_blocked_for_the_team(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        services.dnc_add(client=client, actor=cast.bob, phone=PERSON)
        callback = crm.callback_schedule(phone=PERSON, due_at=timezone.now() + timedelta(hours=1))
        call = OutboundCall.objects.get(callback=callback)
        assert call.status == "blocked" and "do-not-call" in call.detail and call.next_attempt_at is None


def test_a_plan_without_outbound_calls_keeps_callbacks_for_the_team(cast):
    with tenant_context(cast.client_a):
        callback = crm.callback_schedule(phone=PERSON, due_at=timezone.now() + timedelta(hours=1))
        assert Callback.objects.filter(pk=callback.pk).exists() and not OutboundCall.objects.exists()


def _commit_hooks() -> None:
    """Run the on-commit hooks the sweep queued (the test's transaction never commits)."""
    for _sids, hook, _robust in list(connection.run_on_commit):
        hook()
    connection.run_on_commit.clear()


def _due_call(client: Client, **extra) -> OutboundCall:
    with tenant_context(client):
        _open_all_day()
        call = services.outbound_call_request(client=client, to=PERSON, reason="Your quote",
                                              consent_source="form", actor=cast_user(client), **extra)
    return call


def cast_user(client: Client):
    from apps.clients.models import Membership

    return Membership.objects.filter(client=client, role="owner").first().user


def test_a_dnc_added_while_the_call_waits_stops_it_before_it_rings(cast):
    client = _allow(cast.client_a)
    call = _due_call(client)
    with tenant_context(client):
        OutboundCall.objects.filter(pk=call.pk).update(status="dialing")  # claimed by a sweep
        DoNotCall.objects.create(phone=PERSON)
        with override_settings(PUBLIC_URL=PUBLIC):
            services.outbound_dial(call_id=call.pk)
        call.refresh_from_db()
        assert call.status == "blocked" and call.provider_call_id == "" and call.attempts == 0


def test_repeated_sweeps_claim_a_due_call_once(cast):
    """The claim is a conditional UPDATE (scheduled → dialing): a second sweep, or one that read the same ids
    before the first committed, finds nothing left to claim. (The due index's row lock, SKIP LOCKED, keeps two
    sweeps out of one client at once: tested with the index itself.)"""
    client = _allow(cast.client_a)
    call = _due_call(client)
    with tenant_context(client):
        later = timezone.now() + timedelta(seconds=5)
        first, _next = services._due_claim_batch(later)
        second, _next = services._due_claim_batch(later)
        assert first == [call.pk] and second == []
        connection.set_schema_to_public()
    with override_settings(PUBLIC_URL=PUBLIC):
        assert services.outbound_sweep(now=timezone.now() + timedelta(seconds=5))["queued"] == 0
        _commit_hooks()
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "dialing" and call.attempts == 0  # claimed once, not yet placed


# -- Twilio's side -----------------------------------------------------------------------------------------------

def _placed(client: Client) -> OutboundCall:
    call = _due_call(client)
    with tenant_context(client):
        OutboundCall.objects.filter(pk=call.pk).update(status="dialing")
        with override_settings(PUBLIC_URL=PUBLIC):
            services.outbound_dial(call_id=call.pk)
        call.refresh_from_db()
    return call


def _twilio_params(call: OutboundCall, **extra: str) -> dict[str, str]:
    return {"AccountSid": "AC" + "0" * 32, "CallSid": call.provider_call_id, "From": call.from_number,
            "To": call.to, "Direction": "outbound-api", "ApiVersion": "2010-04-01", **extra}


def _query(call: OutboundCall) -> str:
    url = MemoryTelephony.calls[call.provider_call_id]["url"]
    return url.split("?", 1)[1]


@override_settings(PUBLIC_URL=PUBLIC)
def test_a_person_answers_and_the_agent_takes_the_call(cast, http):
    client = _allow(cast.client_a)
    call = _placed(client)
    answer = _signed_post(http, f"/telephony/twilio/outbound/answer?{_query(call)}",
                          _twilio_params(call, CallStatus="in-progress", AnsweredBy="human"))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/xml")
    body = answer.content.decode()
    assert "<Redirect" in body and "/telephony/twilio/voice?outbound=" in body
    status = _signed_post(http, f"/telephony/twilio/outbound/status?{_query(call)}",
                          _twilio_params(call, CallStatus="completed", CallDuration="95"))
    assert status.status_code == 204
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "done" and call.answered_by == "human"
        assert [step["status"] for step in call.history][-3:] == ["dialing", "answered", "done"]


@override_settings(PUBLIC_URL=PUBLIC)
def test_a_machine_gets_a_message_in_the_persons_language_and_a_retry(cast, http):
    client = _allow(cast.client_a)
    call = _placed(client)
    with tenant_context(client):
        OutboundCall.objects.filter(pk=call.pk).update(language="fr")
    answer = _signed_post(http, f"/telephony/twilio/outbound/answer?{_query(call)}",
                          _twilio_params(call, CallStatus="in-progress", AnsweredBy="machine_end_beep"))
    body = answer.content.decode()
    assert 'language="fr-FR"' in body and "<Hangup" in body and "Client ALPHA" in body
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "scheduled" and call.next_attempt_at > timezone.now() + timedelta(minutes=59)


@override_settings(PUBLIC_URL=PUBLIC)
def test_busy_then_no_answer_then_given_up_after_the_attempts(cast, http):
    client = _allow(cast.client_a)
    call = _placed(client)
    with tenant_context(client):
        CallingPolicy.objects.update(max_attempts=2)
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(call)}", _twilio_params(call, CallStatus="busy"))
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "scheduled" and call.attempts == 1
        OutboundCall.objects.filter(pk=call.pk).update(status="dialing", provider_call_id="")
        services.outbound_dial(call_id=call.pk)
        call.refresh_from_db()
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(call)}",
                 _twilio_params(call, CallStatus="no-answer"))
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "failed" and call.attempts == 2 and "2" in call.detail


@override_settings(PUBLIC_URL=PUBLIC)
def test_forged_or_foreign_requests_change_nothing(cast, http):
    client_a, client_b = _allow(cast.client_a), _allow(cast.client_b)
    call = _placed(client_a)
    params = _twilio_params(call, CallStatus="completed")
    path = f"/telephony/twilio/outbound/status?{_query(call)}"
    assert http.post(path, params).status_code == 403  # unsigned
    assert _signed_post(http, path, params, token="not-the-token").status_code == 403
    # Signed, but from client B's number with client A's token: not B's call.
    foreign = dict(params, From="+15550100078")
    assert _signed_post(http, path, foreign).status_code == 404
    assert _signed_post(http, "/telephony/twilio/outbound/status?t=forged", params).status_code == 404
    with tenant_context(client_a):
        call.refresh_from_db()
        assert call.status == "dialing"
    with tenant_context(client_b):
        assert not OutboundCall.objects.exists()


# -- The page ----------------------------------------------------------------------------------------------------

def test_the_page_schedules_a_call_and_refuses_without_consent(cast, as_user):
    client = _allow(cast.client_a)
    browser = as_user(cast.alice, client)
    page = browser.get("/outbound/", HTTP_HOST=host_of(client))
    assert page.status_code == 200 and "Do-not-call list" in page.content.decode()
    refused = browser.post("/outbound/call/", {"to": PERSON, "reason": "Quote", "language": "en"},
                           HTTP_HOST=host_of(client))
    assert refused.status_code == 400 and "consent" in refused.content.decode()
    done = browser.post("/outbound/call/", {"to": PERSON, "reason": "Quote", "language": "en", "consent": "on",
                                            "consent_source": "signed form"}, HTTP_HOST=host_of(client))
    assert done.status_code == 302
    for bad in ({"to": "\x00", "reason": "x", "language": "en"}, {"to": PERSON, "reason": "x", "language": "zz"},
                {"to": PERSON, "reason": "x" * 5000, "language": "en"}):
        assert browser.post("/outbound/call/", bad, HTTP_HOST=host_of(client)).status_code == 400
    surrogate = browser.post("/outbound/call/", "to=%ED%B3%BF&reason=x&language=en&consent=on&consent_source=x",
                             content_type="application/x-www-form-urlencoded", HTTP_HOST=host_of(client))
    assert surrogate.status_code == 400
    with tenant_context(client):
        assert OutboundCall.objects.count() == 1
    # Client B's owner cannot cancel A's call.
    with tenant_context(client):
        call_id = OutboundCall.objects.get().pk
    other = as_user(cast.carol, cast.client_b)
    assert other.post(f"/outbound/{call_id}/cancel/", HTTP_HOST=host_of(cast.client_b)).status_code == 404
    with tenant_context(client):
        assert OutboundCall.objects.get().status == "scheduled"


@override_settings(PUBLIC_URL=PUBLIC)
def test_the_agent_takes_the_call_it_placed_and_says_why_it_calls(cast, http):
    """The whole path with Twilio's requests as Twilio sends them: the answer (a person), its <Redirect> to the
    voice endpoint with the call's token, and the agent's TwiML; the call is recorded as outgoing, to the person,
    and the agent's first words say why it calls."""
    from apps.calls.models import Call
    from tests.agents.conftest import make_agent

    client = _allow(cast.client_a)
    agent = make_agent(client)
    call = _placed(client)
    with tenant_context(client):
        OutboundCall.objects.filter(pk=call.pk).update(language="fr", name="Salma", reason="votre devis de cuisine",
                                                       agent=agent)
    answer = _signed_post(http, f"/telephony/twilio/outbound/answer?{_query(call)}",
                          _twilio_params(call, CallStatus="in-progress", AnsweredBy="human"))
    redirect = answer.content.decode().split("<Redirect", 1)[1].split(">", 1)[1].split("</Redirect>")[0]
    path = redirect.replace("&amp;", "&")[len(PUBLIC):]
    voice = _signed_post(http, path, _twilio_params(call, CallStatus="in-progress"))
    assert voice.status_code == 200 and "<Connect" in voice.content.decode(), voice.content
    with tenant_context(client):
        recorded = Call.objects.get(call_sid=call.provider_call_id)
        assert recorded.direction == "outbound" and recorded.to_number == PERSON
        assert recorded.from_number == OUR_NUMBER and recorded.conversation.visitor_phone == PERSON
        first = recorded.conversation.messages.order_by("id").first()
        assert first.role == "assistant" and "Salma" in first.text and "votre devis de cuisine" in first.text
        assert "Bonjour" in first.text
    forged = _signed_post(http, "/telephony/twilio/voice?outbound=not-a-token",
                          _twilio_params(call, CallSid="CA" + "9" * 32, CallStatus="in-progress"))
    assert forged.status_code == 404
