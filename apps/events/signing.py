"""Standard Webhooks signatures (v1.0.0): `webhook-id`, `webhook-timestamp`, `webhook-signature`.

The HMAC is computed by the `standardwebhooks` package (MIT, no dependencies, pinned): signed content
`{id}.{timestamp}.{body}` over the exact bytes sent, HMAC-SHA256 with the base64-decoded secret, sent as
`v1,<base64>`; during a rotation every secret in force signs and the signatures are space-separated.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(*, secrets_in_force: list[str], msg_id: str, timestamp: int, body: str) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=moment, data=body) for secret in secrets_in_force)


def headers_for(*, secrets_in_force: list[str], msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "Vocalia-Webhooks/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_in_force=secrets_in_force, msg_id=msg_id, timestamp=timestamp,
                                              body=body),
    }
