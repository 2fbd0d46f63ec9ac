"""Numbers route to their client (cached, invalidated), and Twilio's signature is checked the Twilio way."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings
from twilio.request_validator import RequestValidator

from apps.clients.models import Client
from apps.core.platform_cache import MISSING, cache_get
from apps.telephony.models import PhoneNumber
from apps.telephony.selectors import e164_clean, number_route
from apps.telephony.webhooks import SignatureInvalid, public_url, public_ws_url, webhook_verify

pytestmark = pytest.mark.django_db
TOKEN = "offline-twin"  # the twin's signing token


def test_it_cleans_numbers():
    assert e164_clean(" +33 1 23-45-67-89 ") == "+33123456789"
    assert e164_clean("whatsapp:+212600000001") == "+212600000001"
    assert e164_clean("0033123456789") == "+33123456789"
    assert e164_clean("+0123") == "" and e164_clean("abc") == "" and e164_clean("+1\x00555") == ""


def test_it_routes_a_number_to_its_client_and_caches_it(cast):
    number = PhoneNumber.objects.create(e164="+15550100001", client=cast.client_a, agent_id=7)
    route = number_route("+1 555 010 0001")
    assert route.client.pk == cast.client_a.pk and route.agent_id == 7
    assert route.schema_name == cast.client_a.schema_name
    assert cache_get("number", "+15550100001") is not MISSING
    number.client = cast.client_b
    number.save()
    assert cache_get("number", "+15550100001") is MISSING  # the signal dropped the entry
    assert number_route("+15550100001").client.pk == cast.client_b.pk


def test_it_forgets_a_released_or_unknown_number(cast):
    PhoneNumber.objects.create(e164="+15550100002", client=cast.client_a, status=PhoneNumber.Status.RELEASED)
    assert number_route("+15550100002") is None
    assert number_route("+15550100003") is None
    assert number_route("not a number") is None


def test_it_drops_the_route_when_the_client_changes(cast):
    PhoneNumber.objects.create(e164="+15550100004", client=cast.client_a)
    assert number_route("+15550100004").client_active
    Client.objects.get(pk=cast.client_a.pk).save()  # any save (a suspension) invalidates
    assert cache_get("number", "+15550100004") is MISSING


def _signed(url: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {"HTTP_X_TWILIO_SIGNATURE": RequestValidator(token).compute_signature(url, params)}


@override_settings(PUBLIC_URL="https://calls.example.com")
def test_it_checks_the_signature_against_the_public_url(cast):
    PhoneNumber.objects.create(e164="+15550100005", client=cast.client_a)
    params = {"CallSid": "CA" + "1" * 32, "From": "+33600000000", "To": "+15550100005"}
    url = public_url("/telephony/twilio/voice")
    assert url == "https://calls.example.com/telephony/twilio/voice"
    assert public_ws_url("/ws/twilio/relay/") == "wss://calls.example.com/ws/twilio/relay/"
    factory = RequestFactory()
    good = factory.post("/telephony/twilio/voice", params, **_signed(url, params))
    hook = webhook_verify(good)
    assert hook.route.client.pk == cast.client_a.pk and hook.get("CallSid") == params["CallSid"]
    for headers in ({}, _signed(url, params, token="wrong"), _signed("http://testserver/telephony/twilio/voice",
                                                                      params),
                    _signed(url, dict(params, To="+15550100006"))):
        with pytest.raises(SignatureInvalid):
            webhook_verify(factory.post("/telephony/twilio/voice", params, **headers))
