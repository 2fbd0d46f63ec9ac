"""Signatures as the Standard Webhooks spec defines them, checked against its published test vector and an
HMAC computed here from the spec's words (not through the package)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from apps.events import signing

# The spec's (and Svix's) published example.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_it_matches_the_specs_test_vector():
    assert signing.signature_header(secrets_in_force=[VECTOR_SECRET], msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP,
                                    body=VECTOR_BODY) == VECTOR_SIGNATURE


def test_it_signs_id_timestamp_and_the_exact_body_with_the_decoded_secret():
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    content = f"{VECTOR_ID}.{VECTOR_TIMESTAMP}.{VECTOR_BODY}".encode()
    expected = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    assert expected == VECTOR_SIGNATURE


def test_it_sends_one_signature_per_secret_in_force():
    new = signing.secret_new()
    header = signing.signature_header(secrets_in_force=[new, VECTOR_SECRET], msg_id=VECTOR_ID,
                                      timestamp=VECTOR_TIMESTAMP, body=VECTOR_BODY)
    first, second = header.split(" ")
    assert second == VECTOR_SIGNATURE and first.startswith("v1,") and first != second


def test_a_new_secret_is_whsec_and_32_random_bytes():
    secrets = {signing.secret_new() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32


def test_the_headers_are_the_standard_ones():
    headers = signing.headers_for(secrets_in_force=[VECTOR_SECRET], msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP,
                                  body=VECTOR_BODY)
    assert (headers["webhook-id"], headers["webhook-timestamp"], headers["webhook-signature"]) == (
        VECTOR_ID, str(VECTOR_TIMESTAMP), VECTOR_SIGNATURE)
    assert headers["content-type"] == "application/json"
