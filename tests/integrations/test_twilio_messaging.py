"""Twilio's SMS and WhatsApp providers against Twilio's Messages API, mocked at the HTTP seam (the twilio library uses
requests: `responses`), with payloads shaped like Twilio's documented ones."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import responses
from django.test import override_settings

from apps.core.errors import ProviderError
from apps.integrations import registry
from apps.integrations.outbound import OutboundMessage

SID, TOKEN = "AC" + "f" * 32, "secret-auth-token-42"
URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"


def created(sid: str = "SM" + "1" * 32, to: str = "+33612345678") -> dict:
    """Twilio's 201 answer to a message create (trimmed to the fields it always carries)."""
    return {"account_sid": SID, "api_version": "2010-04-01", "body": "x", "date_created": "Tue, 01 Dec 2026 18:00:00 "
            "+0000", "date_sent": None, "date_updated": "Tue, 01 Dec 2026 18:00:00 +0000", "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": "+15550109001", "messaging_service_sid": None,
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{SID}/Messages/{sid}/Media.json"}, "to": to,
            "uri": f"/2010-04-01/Accounts/{SID}/Messages/{sid}.json"}


def provider(kind: str, **extra: str):
    return registry.provider_class(kind, "twilio").from_settings(
        {"account_sid": SID, "auth_token": TOKEN, "from_number": "+15550109001", **extra})


def sent_form(call) -> dict[str, list[str]]:
    return parse_qs(call.request.body if isinstance(call.request.body, str) else call.request.body.decode())


@responses.activate
@override_settings(PUBLIC_URL="https://hooks.vocalia.test")
def test_an_sms_goes_through_the_messages_api_with_its_status_callback():
    responses.add(responses.POST, URL, json=created(), status=201)
    result = provider("sms").send(OutboundMessage(to="+33612345678", body="RDV demain 9h", reference="7"))
    assert result.provider_message_id == "SM" + "1" * 32 and result.status == "sent"
    form = sent_form(responses.calls[0])
    assert form == {"To": ["+33612345678"], "From": ["+15550109001"], "Body": ["RDV demain 9h"],
                    "StatusCallback": ["https://hooks.vocalia.test/telephony/twilio/messages/status/"]}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")


@responses.activate
def test_whatsapp_prefixes_its_addresses_and_sends_a_template_with_its_variables():
    responses.add(responses.POST, URL, json=created(), status=201)
    provider("whatsapp").send(OutboundMessage(to="+33612345678", body="(template)", content_sid="HX" + "a" * 32,
                                              content_variables={"1": "Amina", "2": "3 décembre"}))
    form = sent_form(responses.calls[0])
    assert form["To"] == ["whatsapp:+33612345678"] and form["From"] == ["whatsapp:+15550109001"]
    assert form["ContentSid"] == ["HX" + "a" * 32] and "Body" not in form
    assert json.loads(form["ContentVariables"][0]) == {"1": "Amina", "2": "3 décembre"}


@responses.activate
def test_a_messaging_service_sid_is_sent_as_such():
    responses.add(responses.POST, URL, json=created(), status=201)
    provider("sms", from_number="MG" + "c" * 32).send(OutboundMessage(to="+33612345678", body="x"))
    form = sent_form(responses.calls[0])
    assert form["MessagingServiceSid"] == ["MG" + "c" * 32] and "From" not in form


def _error(status: int, code: int, message: str) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


@pytest.mark.parametrize("kind", ["sms", "whatsapp"])
@pytest.mark.parametrize(("status", "code", "permanent", "refused"), [
    (401, 20003, True, False),  # authenticate
    (429, 20429, False, False),  # too many requests
    (503, 20500, False, False),
    (400, 21610, True, True),  # attempt to send to unsubscribed recipient
    (400, 21211, True, True),  # invalid 'To' phone number
    (400, 63016, True, False),  # WhatsApp free-form message outside the window
])
@responses.activate
def test_twilio_errors_become_provider_errors_without_the_token(kind, status, code, permanent, refused):
    responses.add(responses.POST, URL, json=_error(status, code, f"nope {TOKEN}"), status=status)
    with pytest.raises(ProviderError) as error:
        provider(kind).send(OutboundMessage(to="+33612345678", body="x"))
    assert error.value.permanent is permanent and error.value.address_refused is refused
    assert TOKEN not in error.value.message and str(code) in error.value.message


@responses.activate
def test_a_dropped_connection_is_transient():
    responses.add(responses.POST, URL, body=ConnectionError("reset by peer"))
    with pytest.raises(ProviderError) as error:
        provider("sms").send(OutboundMessage(to="+33612345678", body="x"))
    assert not error.value.permanent and TOKEN not in error.value.message


def test_both_need_their_settings():
    for kind in ("sms", "whatsapp"):
        with pytest.raises(ProviderError) as error:
            registry.provider_class(kind, "twilio").from_settings({"account_sid": SID})
        assert error.value.permanent
