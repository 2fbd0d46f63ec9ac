"""Calls in the dashboard: list with filters, one call, the recording through our server, isolation, bad input."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.calls.models import Call
from apps.integrations.telephony.memory import SILENT_WAV
from apps.telephony.models import PhoneNumber
from tests.conftest import host_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def call_a(cast):
    PhoneNumber.objects.create(e164="+15550100301", client=cast.client_a)
    with tenant_context(cast.client_a):
        return Call.objects.create(call_sid="CA" + "a" * 32, from_number="+33611111111", to_number="+15550100301",
                                   status="completed", duration_s=75, languages=["fr", "ary"],
                                   recording_sid="RE" + "b" * 32, recording_duration_s=70,
                                   timeline=[{"event": "answered", "at": "2026-12-01T18:00:00+00:00", "detail": ""}],
                                   turns=[{"recognition_ms": None, "engine_ms": 12, "speech_ms": None}])


def test_it_lists_and_filters_calls(as_user, cast, call_a):
    http = as_user(cast.alice, cast.client_a)
    page = http.get("/calls/").content.decode()
    assert "+33611111111" in page and f"/calls/{call_a.pk}/" in page
    assert "+33611111111" not in http.get("/calls/?status=busy").content.decode()
    assert "+33611111111" in http.get("/calls/?number=3361111").content.decode()


def test_it_shows_a_call_with_its_timeline_latency_and_player(as_user, cast, call_a):
    page = as_user(cast.bob, cast.client_a).get(f"/calls/{call_a.pk}/").content.decode()
    assert "Answered" in page and ">12<" in page and f"/calls/{call_a.pk}/recording/" in page
    assert "api.twilio.com" not in page


def test_the_calls_events_details_and_hand_over_read_in_the_members_language(as_user, cast, call_a):
    with tenant_context(cast.client_a):
        Call.objects.filter(pk=call_a.pk).update(outcome="handover", handover={
            "mode": "cold", "to": "+33478000000", "status": "busy"}, timeline=[
            {"event": "answered", "at": "2026-12-01T18:00:00+00:00", "detail": "relay"},
            {"event": "handover", "at": "2026-12-01T18:01:00+00:00", "detail": "no-answer"},
            {"event": "ended", "at": "2026-12-01T18:02:00+00:00", "detail": "socket-closed"},
            {"event": "completed", "at": "2026-12-01T18:02:01+00:00", "detail": "Tue, 01 Dec 2026 18:02:01 +0000"}])
    http = as_user(cast.alice, cast.client_a)
    http.cookies["django_language"] = "fr"
    page = http.get(f"/calls/{call_a.pk}/").content.decode()
    assert "Chronologie" in page and "Échéance" not in page
    assert "Transfert direct · Occupé" in page and "La ligne a été coupée" in page and "Pas de réponse" in page
    assert "Tue, 01 Dec 2026" not in page and "socket-closed" not in page and ">busy<" not in page
    listing = http.get("/calls/").content.decode()
    assert "Transféré à l’équipe" in listing and ">handover<" not in listing


def test_it_plays_the_recording_through_our_server(as_user, cast, call_a):
    response = as_user(cast.alice, cast.client_a).get(f"/calls/{call_a.pk}/recording/")
    assert response.status_code == 200 and response.content == SILENT_WAV
    assert response["Content-Type"] == "audio/wav" and "no-store" in response["Cache-Control"]


def test_another_clients_member_gets_404(as_user, cast, call_a):
    carol = as_user(cast.carol, cast.client_b)
    assert carol.get(f"/calls/{call_a.pk}/").status_code == 404
    assert carol.get(f"/calls/{call_a.pk}/recording/").status_code == 404
    assert "+33611111111" not in carol.get("/calls/").content.decode()
    from django.test import Client

    anonymous = Client(HTTP_HOST=host_of(cast.client_a))
    assert anonymous.get(f"/calls/{call_a.pk}/recording/").status_code in (302, 403, 404)


@pytest.mark.parametrize("query", ["number=%00%00", "number=%ED%A0%80", "from=31/02/99999", "to=9" * 400,
                                   "status=%00", "page=99999999999999999999", "from=0000-00-00"])
def test_bad_filters_never_fail(as_user, cast, call_a, query):
    response = as_user(cast.alice, cast.client_a).get(f"/calls/?{query}")
    assert response.status_code in (200, 400)


def test_the_numbers_page_shows_only_the_clients_numbers(as_user, cast, call_a):
    PhoneNumber.objects.create(e164="+15550100302", client=cast.client_b)
    page = as_user(cast.alice, cast.client_a).get("/calls/numbers/").content.decode()
    assert "+15550100301" in page and "+15550100302" not in page


def test_a_huge_call_id_is_404(as_user, cast):
    assert as_user(cast.alice, cast.client_a).get("/calls/99999999999999999999/").status_code == 404


def test_owners_set_the_agents_phone_settings_members_may_not(as_user, cast):
    from apps.agents.models import Agent
    from apps.calls.models import PhoneSettings

    with tenant_context(cast.client_a):
        agent = Agent.objects.create(name="Phone settings", languages=["fr"], default_language="fr")
    url = f"/calls/agents/{agent.pk}/phone/"
    data = {"mode": "gather", "transfer_mode": "warm", "handover_number": "+33 1 23 45 67 89", "recording": "on",
            "consent_notice": "on", "voice_fr": "fr-FR-Neural2-B", "voice_ary": "ar-XA-Wavenet-C"}
    assert as_user(cast.bob, cast.client_a).post(url, data).status_code == 403
    page = as_user(cast.alice, cast.client_a).get(url).content.decode()
    assert "ar-MA" in page  # the Darija fallback is said on the page
    assert as_user(cast.alice, cast.client_a).post(url, data).status_code == 302
    with tenant_context(cast.client_a):
        stored = PhoneSettings.objects.get(agent=agent)
    assert (stored.mode, stored.transfer_mode, stored.handover_number, stored.recording) == (
        "gather", "warm", "+33123456789", True)
    assert stored.voices == {"fr": "fr-FR-Neural2-B", "ary": "ar-XA-Wavenet-C"}
    bad = as_user(cast.alice, cast.client_a).post(url, dict(data, handover_number="call me", mode="x" * 500))
    assert bad.status_code == 200 and "international" in bad.content.decode()
    nul = as_user(cast.alice, cast.client_a).post(url, dict(data, handover_number="+33\x00", voice_fr="\x00"))
    assert nul.status_code == 200  # Django refuses NUL characters with a form error
    as_user(cast.carol, cast.client_b).post(url, dict(data, mode="relay"))  # B's host only ever reaches B's agents
    with tenant_context(cast.client_a):
        assert PhoneSettings.objects.get(agent=agent).mode == "gather"
