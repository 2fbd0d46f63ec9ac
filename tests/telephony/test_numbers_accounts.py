"""Numbers through Twilio's REST API (payloads shaped like Twilio's) and through the offline twin: search, buy,
import, assign (to a client and one of ITS agents), a client's subaccount, a client's own account; the admin
screens, staff only, and bad input answered with a clear error."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.core.errors import InvalidInput, PermissionDenied
from apps.integrations.crypto import credentials_dump
from apps.integrations.models import ConnectedAccount
from apps.integrations.telephony.base import twilio_signature
from apps.integrations.telephony.memory import MemoryTelephony
from apps.telephony.accounts import account_for, account_of_number
from apps.telephony.models import PhoneNumber, TwilioSubaccount
from apps.telephony.services import (
    client_subaccount_ensure,
    number_assign,
    number_buy,
    number_urls,
    numbers_import,
    numbers_search,
)
from tests.test_admin import staff_http

pytestmark = pytest.mark.django_db

API = "https://api.twilio.com/2010-04-01"
AGENCY_SID, AGENCY_TOKEN = "AC" + "1" * 32, "agency-token-0123456789abcdef01"
SUB_SID, SUB_TOKEN = "AC" + "5" * 32, "sub-token-0123456789abcdef0123"
OWN_SID, OWN_TOKEN = "AC" + "7" * 32, "own-token-0123456789abcdef01234"
AGENCY = {"telephony": {"provider": "twilio", "settings": {"account_sid": AGENCY_SID, "auth_token": AGENCY_TOKEN}}}


def _basic(sid: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


def available(e164: str, **extra: object) -> dict[str, object]:
    """One row of AvailablePhoneNumbers/{Country}/Local.json, as Twilio answers it (capabilities upper-cased)."""
    return {"friendly_name": f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}", "phone_number": e164, "lata": "722",
            "locality": "San Francisco", "rate_center": "SNFC CA", "latitude": "37.780000",
            "longitude": "-122.420000", "region": "CA", "postal_code": "94102", "iso_country": "US",
            "address_requirements": "none", "beta": False,
            "capabilities": {"voice": True, "SMS": True, "MMS": False, "fax": False}, **extra}


def incoming(account_sid: str, sid: str, e164: str, voice_url: str = "") -> dict[str, object]:
    """An IncomingPhoneNumber resource, as Twilio answers a POST or lists them."""
    return {"account_sid": account_sid, "address_requirements": "none", "address_sid": None, "api_version":
            "2010-04-01", "beta": False, "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "date_created": "Tue, 01 Dec 2026 21:00:00 +0000", "date_updated": "Tue, 01 Dec 2026 21:00:00 +0000",
            "emergency_status": "Active", "friendly_name": f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}",
            "identity_sid": None, "origin": "twilio", "phone_number": e164, "sid": sid, "sms_application_sid": "",
            "sms_fallback_method": "POST", "sms_fallback_url": "", "sms_method": "POST", "sms_url": "",
            "status_callback": "", "status_callback_method": "POST", "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json", "voice_caller_id_lookup":
            False, "voice_fallback_method": "POST", "voice_fallback_url": None, "voice_method": "POST",
            "voice_url": voice_url, "status": "in-use", "bundle_sid": None}


def page(key: str, rows: list[dict[str, object]], uri: str) -> dict[str, object]:
    return {key: rows, "end": len(rows) - 1, "first_page_uri": uri, "next_page_uri": None, "page": 0,
            "page_size": 50, "previous_page_uri": None, "start": 0, "uri": uri}


def _agent(client, name="Reception") -> Agent:
    with tenant_context(client):
        return Agent.objects.create(name=name, languages=["fr"], default_language="fr")


@pytest.fixture(autouse=True)
def _fresh_twin():
    MemoryTelephony.numbers.clear()
    yield
    MemoryTelephony.numbers.clear()


# --- the agency's Twilio account ---------------------------------------------------------------------------------

@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_it_searches_the_agencys_account_with_twilios_filters(cast):
    uri = f"/2010-04-01/Accounts/{AGENCY_SID}/AvailablePhoneNumbers/US/Local.json"
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.get(f"{API}/Accounts/{AGENCY_SID}/AvailablePhoneNumbers/US/Local.json").mock(
            return_value=httpx.Response(200, json=page("available_phone_numbers", [available("+14155550101")], uri)))
        found = numbers_search(account=account_for(source="agency", client=None), country="us", contains="415",
                               capabilities=("voice", "sms"), actor=cast.staff)
    request = route.calls.last.request
    assert request.headers["Authorization"] == _basic(AGENCY_SID, AGENCY_TOKEN)
    query = parse_qs(request.url.query.decode())
    assert (query["VoiceEnabled"], query["SmsEnabled"], query["Contains"]) == (["true"], ["true"], ["415"])
    assert "MmsEnabled" not in query
    (number,) = found
    assert (number.e164, number.locality, number.country) == ("+14155550101", "San Francisco", "US")
    assert number.capabilities == {"voice": True, "sms": True, "mms": False}  # Twilio spells them SMS / MMS here


@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_it_buys_on_the_agencys_account_pointed_here_and_assigned(cast):
    agent = _agent(cast.client_a)
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.post(f"{API}/Accounts/{AGENCY_SID}/IncomingPhoneNumbers.json").mock(
            return_value=httpx.Response(201, json=incoming(AGENCY_SID, "PN" + "a" * 32, "+14155550101",
                                                           "http://localhost:8000/telephony/twilio/voice")))
        number = number_buy(account=account_for(source="agency", client=None), e164="+1 415 555 0101",
                            client=cast.client_a, agent_id=agent.pk, actor=cast.staff)
    sent = parse_qs(route.calls.last.request.content.decode())
    assert sent["PhoneNumber"] == ["+14155550101"]
    assert sent["VoiceUrl"] == ["http://localhost:8000/telephony/twilio/voice"]
    assert sent["StatusCallback"] == ["http://localhost:8000/telephony/twilio/status"]
    assert (sent["VoiceMethod"], sent["StatusCallbackMethod"]) == (["POST"], ["POST"])
    number.refresh_from_db()
    assert (number.e164, number.provider, number.provider_sid, number.account_source, number.account_sid) == (
        "+14155550101", "twilio", "PN" + "a" * 32, "agency", AGENCY_SID)
    assert (number.client_id, number.agent_id, number.status, number.sms) == (cast.client_a.pk, agent.pk,
                                                                             "active", True)
    with tenant_context(cast.client_a):
        assert AuditEvent.objects.filter(action="phone_number.bought", target="+14155550101").exists()


@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_a_twilio_refusal_stores_nothing(cast):
    with respx.mock() as twilio:
        twilio.post(f"{API}/Accounts/{AGENCY_SID}/IncomingPhoneNumbers.json").mock(return_value=httpx.Response(
            400, json={"code": 21422, "message": "PhoneNumber requested is not available", "more_info":
                       "https://www.twilio.com/docs/errors/21422", "status": 400}))
        with pytest.raises(Exception) as raised:
            number_buy(account=account_for(source="agency", client=None), e164="+14155550101", actor=cast.staff)
    assert "21422" in str(raised.value.message)
    assert not PhoneNumber.objects.filter(e164="+14155550101").exists()


@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_it_imports_the_accounts_numbers_keeping_known_owners(cast):
    agent = _agent(cast.client_a)
    PhoneNumber.objects.create(e164="+14155550102", client=cast.client_a, agent_id=agent.pk, provider="twilio")
    uri = f"/2010-04-01/Accounts/{AGENCY_SID}/IncomingPhoneNumbers.json?PageSize=50&Page=0"
    rows = [incoming(AGENCY_SID, "PN" + "b" * 32, "+14155550102"), incoming(AGENCY_SID, "PN" + "c" * 32,
                                                                            "+14155550103")]
    with respx.mock(assert_all_called=True) as twilio:
        twilio.get(f"{API}/Accounts/{AGENCY_SID}/IncomingPhoneNumbers.json").mock(
            return_value=httpx.Response(200, json=page("incoming_phone_numbers", rows, uri)))
        stored = numbers_import(account=account_for(source="agency", client=None), actor=cast.staff)
    assert {n.e164: (n.client_id, n.agent_id, n.status, n.provider_sid) for n in stored} == {
        "+14155550102": (cast.client_a.pk, agent.pk, "active", "PN" + "b" * 32),
        "+14155550103": (None, None, "unassigned", "PN" + "c" * 32)}


@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_assigning_points_the_numbers_urls_here_through_its_account(cast):
    agent = _agent(cast.client_b, "Bravo desk")
    number = PhoneNumber.objects.create(e164="+14155550104", provider="twilio", provider_sid="PN" + "d" * 32,
                                        account_source="agency", account_sid=AGENCY_SID, status="unassigned")
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.post(f"{API}/Accounts/{AGENCY_SID}/IncomingPhoneNumbers/{'PN' + 'd' * 32}.json").mock(
            return_value=httpx.Response(200, json=incoming(AGENCY_SID, "PN" + "d" * 32, "+14155550104")))
        number_assign(number=number, client=cast.client_b, agent_id=agent.pk, actor=cast.staff)
    sent = parse_qs(route.calls.last.request.content.decode())
    assert sent["VoiceUrl"] == ["http://localhost:8000/telephony/twilio/voice"]
    number.refresh_from_db()
    assert (number.client_id, number.agent_id, number.status) == (cast.client_b.pk, agent.pk, "active")


# --- a client's subaccount ---------------------------------------------------------------------------------------

@override_settings(INTEGRATIONS_DEFAULTS=AGENCY)
def test_it_creates_a_clients_subaccount_once_and_uses_it(cast):
    created = {"auth_token": SUB_TOKEN, "date_created": "Tue, 01 Dec 2026 21:00:00 +0000", "date_updated":
               "Tue, 01 Dec 2026 21:00:00 +0000", "friendly_name": f"Vocalia — {cast.client_a.name}",
               "owner_account_sid": AGENCY_SID, "sid": SUB_SID, "status": "active", "subresource_uris": {},
               "type": "Full", "uri": f"/2010-04-01/Accounts/{SUB_SID}.json"}
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.post(f"{API}/Accounts.json").mock(return_value=httpx.Response(201, json=created))
        subaccount = client_subaccount_ensure(client=cast.client_a, actor=cast.staff)
        assert client_subaccount_ensure(client=cast.client_a, actor=cast.staff).pk == subaccount.pk
    assert route.call_count == 1
    assert parse_qs(route.calls.last.request.content.decode())["FriendlyName"] == [f"Vocalia — {cast.client_a.name}"]
    assert route.calls.last.request.headers["Authorization"] == _basic(AGENCY_SID, AGENCY_TOKEN)
    assert TwilioSubaccount.objects.get(client=cast.client_a).auth_token == SUB_TOKEN
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT auth_token FROM public.telephony_twiliosubaccount WHERE id = %s", [subaccount.pk])
        assert SUB_TOKEN not in cursor.fetchone()[0]

    uri = f"/2010-04-01/Accounts/{SUB_SID}/AvailablePhoneNumbers/FR/Local.json"
    account = account_for(source="subaccount", client=cast.client_a)
    with respx.mock(assert_all_called=True) as twilio:
        search = twilio.get(f"{API}/Accounts/{SUB_SID}/AvailablePhoneNumbers/FR/Local.json").mock(
            return_value=httpx.Response(200, json=page("available_phone_numbers", [available("+33159000001")], uri)))
        buy = twilio.post(f"{API}/Accounts/{SUB_SID}/IncomingPhoneNumbers.json").mock(
            return_value=httpx.Response(201, json=incoming(SUB_SID, "PN" + "e" * 32, "+33159000001")))
        (found,) = numbers_search(account=account, country="FR", actor=cast.staff)
        number = number_buy(account=account, e164=found.e164, client=cast.client_a, actor=cast.staff)
    assert search.calls.last.request.headers["Authorization"] == _basic(AGENCY_SID, AGENCY_TOKEN)  # parent's keys
    assert buy.called and (number.account_source, number.account_sid) == ("subaccount", SUB_SID)
    # the subaccount's numbers are signed with the subaccount's own token: the webhooks verify them
    provider = account_of_number(number)
    url, params = "http://localhost:8000/telephony/twilio/voice", {"To": "+33159000001", "CallSid": "CA1"}
    assert provider.signature_valid(url=url, params=params, signature=twilio_signature(SUB_TOKEN, url, params))
    assert not provider.signature_valid(url=url, params=params, signature=twilio_signature("forged", url, params))


def test_offline_the_twin_gives_a_subaccount_and_test_numbers(cast):
    subaccount = client_subaccount_ensure(client=cast.client_b, actor=cast.staff)
    assert subaccount.provider == "memory" and subaccount.account_sid.startswith("AC")
    account = account_for(source="subaccount", client=cast.client_b)
    found = numbers_search(account=account, country="MA", contains="12", actor=cast.staff)
    assert found and all(row.e164.startswith("+1555010") for row in found)
    number = number_buy(account=account, e164=found[0].e164, client=cast.client_b, actor=cast.staff)
    assert (number.provider, number.account_source, number.status) == ("memory", "subaccount", "active")


def test_search_leaves_out_numbers_already_on_the_platform(cast):
    account = account_for(source="agency", client=None)
    first = numbers_search(account=account, country="US", actor=cast.staff)[0].e164
    PhoneNumber.objects.create(e164=first, client=cast.client_a)  # bought before a restart the twin forgot
    assert first not in {row.e164 for row in numbers_search(account=account, country="US", actor=cast.staff)}
    with pytest.raises(InvalidInput):
        number_buy(account=account, e164=first, actor=cast.staff)


def test_a_subaccount_is_needed_before_it_is_used(cast):
    with pytest.raises(InvalidInput) as raised:
        account_for(source="subaccount", client=cast.client_a)
    assert raised.value.param == "account"
    with pytest.raises(InvalidInput):
        account_for(source="subaccount", client=None)


# --- a client's own account --------------------------------------------------------------------------------------

def test_it_buys_on_the_clients_own_account_from_its_integrations_page(cast):
    with tenant_context(cast.client_a):
        ConnectedAccount.objects.create(kind="telephony", provider="twilio", credentials_encrypted=credentials_dump(
            {"account_sid": OWN_SID, "auth_token": OWN_TOKEN}))
    account = account_for(source="client", client=cast.client_a)
    with respx.mock(assert_all_called=True) as twilio:
        route = twilio.post(f"{API}/Accounts/{OWN_SID}/IncomingPhoneNumbers.json").mock(
            return_value=httpx.Response(201, json=incoming(OWN_SID, "PN" + "f" * 32, "+212522000001")))
        number = number_buy(account=account, e164="+212522000001", client=cast.client_a, actor=cast.staff)
    assert route.calls.last.request.headers["Authorization"] == _basic(OWN_SID, OWN_TOKEN)
    assert (number.account_source, number.account_sid, number.provider) == ("client", OWN_SID, "twilio")
    with pytest.raises(InvalidInput):  # a number in A's own account never goes to B
        number_assign(number=number, client=cast.client_b, agent_id=None, actor=cast.staff)


def test_a_client_without_its_own_account_is_told(cast):
    with pytest.raises(InvalidInput) as raised:
        account_for(source="client", client=cast.client_b)
    assert "Integrations" in raised.value.message


# --- the agent must be the client's ------------------------------------------------------------------------------

def test_an_agent_of_another_client_is_refused_and_nothing_changes(cast):
    agent_b = _agent(cast.client_b, "Bravo only")
    with tenant_context(cast.client_a):
        Agent.objects.filter(pk=agent_b.pk).delete()  # ids are per schema: make sure A has no agent with this id
    number = PhoneNumber.objects.create(e164="+15550100601", status="unassigned")
    with pytest.raises(InvalidInput) as raised:
        number_assign(number=number, client=cast.client_a, agent_id=agent_b.pk, actor=cast.staff)
    assert raised.value.param == "agent"
    number.refresh_from_db()
    assert (number.client_id, number.agent_id, number.status) == (None, None, "unassigned")
    with pytest.raises(InvalidInput):
        number_buy(account=account_for(source="agency", client=None), e164="+15550100602", client=cast.client_a,
                   agent_id=agent_b.pk, actor=cast.staff)
    assert not PhoneNumber.objects.filter(e164="+15550100602").exists()
    assert "+15550100602" not in MemoryTelephony.numbers  # refused before anything was bought


def test_only_staff_may_use_the_services(cast):
    account = account_for(source="agency", client=None)
    for call in (lambda: numbers_search(account=account, country="US", actor=cast.alice),
                 lambda: number_buy(account=account, e164="+15550100603", actor=cast.alice),
                 lambda: numbers_import(account=account, actor=cast.alice),
                 lambda: client_subaccount_ensure(client=cast.client_a, actor=cast.alice)):
        with pytest.raises(PermissionDenied):
            call()
    assert not TwilioSubaccount.objects.filter(client=cast.client_a).exists()


@pytest.mark.parametrize("country, contains, param", [
    ("U\x00S", "", "country"), ("ZZ", "", "country"), ("USA", "", "country"), ("99", "", "country"),
    ("9" * 400, "", "country"), ("\ud800", "", "country"), ("US", "4\x0015", "contains"), ("US", "41-5", "contains"),
    ("US", "1" * 17, "contains")])
def test_bad_search_input_is_a_clear_error(cast, country, contains, param):
    with pytest.raises(InvalidInput) as raised:
        numbers_search(account=account_for(source="agency", client=None), country=country, contains=contains,
                       actor=cast.staff)
    assert raised.value.param == param and raised.value.message


# --- the admin screens -------------------------------------------------------------------------------------------

def test_staff_search_and_buy_a_test_number_for_a_client_and_its_agent(cast):
    agent = _agent(cast.client_a, "Front desk")
    http = staff_http(cast.staff)
    page_ = http.get("/admin/telephony/phonenumber/search/", {"account": "agency", "client": cast.client_a.pk,
                                                                "country": "FR", "capabilities": ["voice", "sms"]})
    assert page_.status_code == 200
    html = page_.content.decode()
    assert "+1555010" in html and "Front desk" in html and 'id="search-results"' in html
    first = page_.context["results"][0].e164
    response = http.post("/admin/telephony/phonenumber/buy/", {"number": first, "account": "agency",
                                                                "client": cast.client_a.pk, "agent": agent.pk})
    assert response.status_code == 302
    number = PhoneNumber.objects.get(e164=first)
    assert (number.client_id, number.agent_id, number.account_source, number.provider) == (
        cast.client_a.pk, agent.pk, "twin", "memory")


@pytest.mark.parametrize("query", [{"country": "U\x00S"}, {"country": "QQ"}, {"country": "9" * 400},
                                   {"country": "US", "contains": "12\x003"}, {"country": "US", "account": "nope"},
                                   {"country": "US", "client": "1\x00"}, {"country": "US", "client": "99999999999"}])
def test_the_search_screen_answers_bad_input_with_a_message(cast, query):
    response = staff_http(cast.staff).get("/admin/telephony/phonenumber/search/", {"account": "agency", **query})
    assert response.status_code == 200
    assert response.context["error"] and response.context["results"] == []
    assert 'id="search-error"' in response.content.decode()


def test_the_admin_refuses_another_clients_agent_on_assign_and_buy(cast):
    agent_b = _agent(cast.client_b, "Bravo desk")
    with tenant_context(cast.client_a):
        Agent.objects.filter(pk=agent_b.pk).delete()
    number = PhoneNumber.objects.create(e164="+15550100611", status="unassigned")
    http = staff_http(cast.staff)
    page_ = http.get(f"/admin/telephony/phonenumber/{number.pk}/assign/", {"client": cast.client_b.pk})
    assert page_.status_code == 200 and "Bravo desk" in page_.content.decode()
    response = http.post(f"/admin/telephony/phonenumber/{number.pk}/assign/",
                         {"client": cast.client_a.pk, "agent": agent_b.pk}, follow=True)
    assert "not one of the client" in response.content.decode()
    number.refresh_from_db()
    assert (number.client_id, number.agent_id) == (None, None)
    response = http.post(f"/admin/telephony/phonenumber/{number.pk}/assign/",
                         {"client": cast.client_b.pk, "agent": agent_b.pk})
    assert response.status_code == 302
    number.refresh_from_db()
    assert (number.client_id, number.agent_id, number.status) == (cast.client_b.pk, agent_b.pk, "active")
    http.post("/admin/telephony/phonenumber/buy/", {"number": "+15550100612", "account": "agency",
                                                     "client": cast.client_a.pk, "agent": agent_b.pk})
    assert not PhoneNumber.objects.filter(e164="+15550100612").exists()


def test_staff_import_and_create_a_subaccount_from_the_admin(cast):
    MemoryTelephony().number_buy(e164="+15550100621", urls=number_urls())  # the twin account owns it already
    http = staff_http(cast.staff)
    assert http.get("/admin/telephony/phonenumber/import/").status_code == 200
    response = http.post("/admin/telephony/phonenumber/import/", {"account": "agency"})
    assert response.status_code == 302
    assert PhoneNumber.objects.get(e164="+15550100621").status == "unassigned"
    response = http.post("/admin/telephony/phonenumber/subaccount/", {"client": cast.client_b.pk}, follow=True)
    assert TwilioSubaccount.objects.get(client=cast.client_b).account_sid in response.content.decode()


@pytest.mark.parametrize("method, path", [
    ("get", "search/?country=US"), ("post", "buy/"), ("get", "import/"), ("post", "import/"), ("post", "subaccount/"),
    ("get", "{id}/assign/"), ("post", "{id}/assign/")])
def test_non_staff_never_reach_the_number_screens(cast, method, path):
    number = PhoneNumber.objects.create(e164="+15550100631", status="unassigned")
    http = staff_http(cast.alice)  # a client's owner: not agency staff
    body = {"number": "+15550100632", "account": "agency", "client": cast.client_a.pk}
    url = "/admin/telephony/phonenumber/" + path.format(id=number.pk)
    response = getattr(http, method)(url, body) if method == "post" else http.get(url)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]
    assert not PhoneNumber.objects.filter(e164="+15550100632").exists()
    assert PhoneNumber.objects.get(pk=number.pk).client_id is None
    assert not TwilioSubaccount.objects.exists()
