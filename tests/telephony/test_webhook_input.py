"""Bad input on Twilio's endpoints: signed or not, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from apps.telephony.webhooks import public_url

pytestmark = pytest.mark.django_db
ENDPOINTS = ["voice", "status", "recording", "relay/action", "dial/action", "gather", "callback", "whisper",
             "whisper/status"]


def _signed_post(path, params):
    signature = RequestValidator("offline-twin").compute_signature(public_url(path), params)
    return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unsigned_request_is_403_on_every_endpoint(cast, endpoint):
    response = Client().post(f"/telephony/twilio/{endpoint}", {"CallSid": "CA" + "1" * 32, "To": "+15550100001"})
    assert response.status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("params", [
    {"CallSid": "CA\x00" + "1" * 31, "To": "+1555\x000100001", "From": "\x00+33"},
    {"CallSid": "x" * 5000, "CallDuration": "9" * 400, "RecordingDuration": "-1", "HandoffData": "[" * 5000},
    {"To": "+15550100001", "HandoffData": '{"reason": "handover"}', "DialCallStatus": "busy"},
])
def test_signed_garbage_is_answered_with_twiml(cast, endpoint, params):
    response = _signed_post(f"/telephony/twilio/{endpoint}", params)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")


def test_a_get_is_refused(cast):
    assert Client().get("/telephony/twilio/voice").status_code in (403, 405)
