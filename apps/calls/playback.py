"""A call's recording, downloaded by our server with the number's account credentials."""

from __future__ import annotations

from typing import Any

from apps.calls.models import Call
from apps.core.errors import NotFound
from apps.telephony.selectors import number_route
from apps.telephony.webhooks import signing_provider


def recording_audio(*, call: Call, client: Any) -> bytes:
    number = call.to_number if call.direction == Call.Direction.INBOUND else call.from_number
    route = number_route(number)
    if route is None or route.client is None or route.client.pk != client.pk:
        raise NotFound()
    provider = signing_provider(route)
    if provider is None:
        raise NotFound()
    return provider.recording_fetch(recording_sid=call.recording_sid)
