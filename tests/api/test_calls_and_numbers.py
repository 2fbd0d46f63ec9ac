"""Calls and phone numbers in the REST API: lists with filters and cursors, a call's transcript, timeline, latency and
recording (audio through our server, never Twilio's URL), the client's numbers with their agent and mode."""

from __future__ import annotations

import base64
from datetime import timedelta

import httpx
import pytest
import respx
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.calls.models import Call, PhoneSettings
from apps.integrations.crypto import credentials_dump
from apps.integrations.models import ConnectedAccount
from apps.integrations.telephony.memory import SILENT_WAV
from apps.telephony.models import PhoneNumber
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

CLIENT_SID, CLIENT_TOKEN = "AC" + "c" * 32, "client-own-token"


def _call(**fields):
    defaults = {"status": "completed", "from_number": "+33622222222", "to_number": "+15550100900"}
    return Call.objects.create(**{**defaults, **fields})


def _number_on_client_account(number):
    """The number now belongs to the client's own Twilio account (Integrations page); saved, so its cached route is
    dropped (apps.telephony.signals)."""
    number.provider, number.account_source, number.account_sid = "twilio", "client", CLIENT_SID
    number.save()


def test_it_lists_calls_newest_first_with_their_recording_metadata(cast, api_a, world):
    listed = api_a.get("calls").json()
    assert listed["object"] == "list" and listed["has_more"] is False
    (row,) = listed["data"]
    assert (row["object"], row["id"], row["agent"], row["conversation"]) == (
        "call", world.phone_call.pk, world.agent.pk, world.phone_call.conversation_id)
    assert (row["from_number"], row["to_number"], row["mode"], row["status"], row["duration_s"]) == (
        "+33611111111", world.number.e164, "media", "completed", 75)
    assert row["recording"] == {"status": "completed", "duration_s": 70,
                                "audio_url": f"/api/v1/calls/{world.phone_call.pk}/recording"}
    assert "transcript" not in row and "recording_sid" not in row


def test_it_filters_calls_and_pages_them_with_a_cursor(cast, api_a, world):
    now = timezone.now()
    with tenant_context(cast.client_a):
        busy = _call(call_sid="CA" + "1" * 32, status="busy", direction="outbound", started=now - timedelta(hours=2))
        older = _call(call_sid="CA" + "2" * 32, started=now - timedelta(days=3))
    assert [r["id"] for r in api_a.get("calls", {"status": "busy"}).json()["data"]] == [busy.pk]
    assert [r["id"] for r in api_a.get("calls", {"direction": "outbound"}).json()["data"]] == [busy.pk]
    assert [r["id"] for r in api_a.get("calls", {"agent": world.agent.pk}).json()["data"]] == [world.phone_call.pk]
    assert [r["id"] for r in api_a.get("calls", {"number": "+3361111"}).json()["data"]] == [world.phone_call.pk]
    assert {r["id"] for r in api_a.get("calls", {"number": "3362222"}).json()["data"]} == {busy.pk, older.pk}
    recent = api_a.get("calls", {"created_after": (now - timedelta(days=1)).isoformat()}).json()["data"]
    assert older.pk not in {r["id"] for r in recent}
    first = api_a.get("calls", {"limit": 2}).json()
    assert first["has_more"] is True
    second = api_a.get("calls", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [r["id"] for r in first["data"] + second["data"]] == [world.phone_call.pk, busy.pk, older.pk]


def test_it_gives_a_call_with_its_transcript_timeline_latency_and_summary(cast, api_a, world):
    response = api_a.get(f"calls/{world.phone_call.pk}")
    assert response.status_code == 200, response.content
    one = response.json()
    assert [(line["role"], line["text"]) for line in one["transcript"]] == [
        ("assistant", "Cabinet Alpha, bonjour."), ("user", "Un rendez-vous, svp.")]
    assert one["timeline"] == [{"event": "answered", "at": "2026-12-01T18:00:00Z", "detail": "media"},
                               {"event": "completed", "at": "2026-12-01T18:01:15Z", "detail": "75"}]
    assert one["latency"] == [{"recognition_ms": 120, "engine_ms": 12, "speech_ms": 80}]
    assert (one["outcome"], one["summary"], one["languages"]) == ("booked", "Rendez-vous pris.", ["fr"])
    body = response.content.decode()
    assert "twilio.com" not in body and world.phone_call.recording_sid not in body


def test_it_serves_the_recording_through_our_server(cast, api_a, world):
    for accept in ("*/*", "audio/wav"):
        response = api_a.get(f"calls/{world.phone_call.pk}/recording", HTTP_ACCEPT=accept)
        assert response.status_code == 200, response.content
        assert response.content == SILENT_WAV
        assert response["Content-Type"] == "audio/wav" and "no-store" in response["Cache-Control"]
        assert response["RateLimit-Remaining"].isdigit()


def test_it_fetches_a_client_accounts_recording_with_that_accounts_credentials(cast, api_a, world):
    _number_on_client_account(world.number)
    with tenant_context(cast.client_a):
        ConnectedAccount.objects.create(kind="telephony", provider="twilio", credentials_encrypted=credentials_dump(
            {"account_sid": CLIENT_SID, "auth_token": CLIENT_TOKEN}))
    url = f"https://api.twilio.com/2010-04-01/Accounts/{CLIENT_SID}/Recordings/{world.phone_call.recording_sid}.wav"
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.get(url).mock(return_value=httpx.Response(200, content=b"RIFF-real-audio",
                                                                 headers={"Content-Type": "audio/x-wav"}))
        response = api_a.get(f"calls/{world.phone_call.pk}/recording")
    assert response.status_code == 200 and response.content == b"RIFF-real-audio"
    expected = "Basic " + base64.b64encode(f"{CLIENT_SID}:{CLIENT_TOKEN}".encode()).decode()
    assert route.calls.last.request.headers["Authorization"] == expected


def test_a_provider_failure_is_a_json_502_even_when_audio_was_asked_for(cast, api_a, world):
    _number_on_client_account(world.number)
    with tenant_context(cast.client_a):
        ConnectedAccount.objects.create(kind="telephony", provider="twilio", credentials_encrypted=credentials_dump(
            {"account_sid": CLIENT_SID, "auth_token": CLIENT_TOKEN}))
    with respx.mock() as twilio:
        twilio.get(url__regex=r"https://api\.twilio\.com/.*").mock(return_value=httpx.Response(500))
        response = api_a.get(f"calls/{world.phone_call.pk}/recording", HTTP_ACCEPT="audio/wav")
    assert_error(response, 502, "provider_error")


@pytest.mark.parametrize("fields", [{"recording_sid": ""}, {"recording_status": "absent"}])
def test_a_call_without_a_playable_recording_answers_404(cast, api_a, world, fields):
    with tenant_context(cast.client_a):
        Call.objects.filter(pk=world.phone_call.pk).update(**fields)
    assert_error(api_a.get(f"calls/{world.phone_call.pk}/recording"), 404, "not_found")
    recording = api_a.get(f"calls/{world.phone_call.pk}").json()["recording"]
    assert recording is None or recording["audio_url"] is None


def test_it_lists_the_clients_numbers_with_agent_and_mode_from_its_own_data(cast, api_a, world):
    (row,) = api_a.get("phone-numbers").json()["data"]
    assert row == {"id": world.number.pk, "object": "phone_number", "number": world.number.e164, "label": "Accueil",
                   "agent": world.agent.pk, "mode": "media", "voice": True, "sms": False, "whatsapp": False,
                   "status": "active", "account": "twin", "created": row["created"]}
    assert api_a.get(f"phone-numbers/{world.number.pk}").json() == row
    assert api_a.get("phone-numbers", {"agent": world.agent.pk + 1}).json()["data"] == []
    with tenant_context(cast.client_a):
        PhoneSettings.objects.filter(agent=world.agent).delete()
    assert api_a.get(f"phone-numbers/{world.number.pk}").json()["mode"] == "relay"  # the default
    with tenant_context(cast.client_a):
        gone = Agent.objects.order_by("-pk").values_list("pk", flat=True).first() + 1  # an agent deleted since
    world.number.agent_id = gone
    world.number.save()
    one = api_a.get(f"phone-numbers/{world.number.pk}").json()
    assert (one["agent"], one["mode"]) == (None, None)


def test_a_released_number_is_gone_from_the_api(cast, api_a, world):
    world.number.status = PhoneNumber.Status.RELEASED
    world.number.save()  # a save, as the admin does: the cached route is dropped
    assert api_a.get("phone-numbers").json()["data"] == []
    assert_error(api_a.get(f"phone-numbers/{world.number.pk}"), 404, "not_found")


def test_numbers_and_calls_are_read_only(cast, api_a, world):
    for path in ("phone-numbers", f"phone-numbers/{world.number.pk}", "calls", f"calls/{world.phone_call.pk}"):
        assert_error(api_a.post(path, {"number": "+15550100999"}), 405, "method_not_allowed")
    assert_error(api_a.delete(f"phone-numbers/{world.number.pk}"), 405, "method_not_allowed")
    assert PhoneNumber.objects.filter(pk=world.number.pk, client=cast.client_a).exists()


@pytest.mark.parametrize("query", ["number=%00", "number=abc", "number=12", "number=%2B" + "9" * 16,
                                   "number=%ED%A0%80", "status=ringingg", "direction=sideways",
                                   "agent=99999999999999999999"])
def test_it_refuses_bad_call_filters_naming_the_parameter(cast, api_a, world, query):
    response = api_a.http.get(f"/api/v1/calls?{query}", HTTP_AUTHORIZATION=f"Bearer {cast.sk_a}")
    assert assert_error(response, 400)["param"] == query.split("=")[0]
