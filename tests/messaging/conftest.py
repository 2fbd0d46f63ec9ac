"""Messaging fixtures: an agent open every day, the client's Twilio numbers (public routing table), signed webhook
posts computed the way Twilio signs them (twilio's RequestValidator), a plan with WhatsApp."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator

from apps.clients.models import Plan
from apps.telephony.models import PhoneNumber
from tests.agents.conftest import make_agent

PUBLIC = "https://hooks.vocalia.test"
TWIN_TOKEN = "offline-twin"  # what the telephony twin signs with (apps/integrations/telephony/memory.py)
NUMBER_A, NUMBER_B = "+15550109001", "+15550109002"
PERSON = "+33612345678"
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture(autouse=True)
def _public_url():
    with override_settings(PUBLIC_URL=PUBLIC):
        yield


@pytest.fixture
def agent_a(cast):
    return make_agent(cast.client_a, business_hours=ALL_DAY, appointment_minutes=30, buffer_minutes=0)


@pytest.fixture
def agent_b(cast):
    return make_agent(cast.client_b, business_hours=ALL_DAY, appointment_minutes=30, buffer_minutes=0)


@pytest.fixture
def numbers(cast, agent_a, agent_b):
    PhoneNumber.objects.create(e164=NUMBER_A, client=cast.client_a, agent_id=agent_a.pk, sms=True, whatsapp=True)
    PhoneNumber.objects.create(e164=NUMBER_B, client=cast.client_b, agent_id=agent_b.pk, sms=True, whatsapp=True)
    return NUMBER_A, NUMBER_B


@pytest.fixture
def whatsapp_plans(cast):
    """Pro (client A) and Starter (client B) with SMS and WhatsApp, for this test only (rolled back)."""
    for code in ("pro", "starter"):
        plan = Plan.objects.get(code=code)
        plan.features = sorted({*plan.features, "sms", "whatsapp"})
        plan.save(update_fields=["features"])
    cast.client_a.plan.refresh_from_db()
    cast.client_b.plan.refresh_from_db()


def signed(path: str, params: dict[str, str], token: str = TWIN_TOKEN) -> dict[str, str]:
    return {"HTTP_X_TWILIO_SIGNATURE": RequestValidator(token).compute_signature(PUBLIC + path, params)}


def inbound_params(body: str, *, to: str = NUMBER_A, sender: str = PERSON, channel: str = "sms",
                   **extra: str) -> dict[str, str]:
    """An inbound message the way Twilio posts it (form-encoded)."""
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    params = {"ToCountry": "US", "SmsMessageSid": "SM" + "a" * 32, "NumMedia": "0", "ToCity": "", "FromZip": "",
              "SmsSid": "SM" + "a" * 32, "FromState": "", "SmsStatus": "received", "FromCity": "",
              "Body": body, "FromCountry": "FR", "To": prefix + to, "ToZip": "", "NumSegments": "1",
              "MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "0" * 32, "From": prefix + sender,
              "ApiVersion": "2010-04-01"}
    if channel == "whatsapp":
        params.update({"ProfileName": "Amina", "WaId": sender.lstrip("+"), "MessageType": "text"})
    params.update(extra)
    return params


@pytest.fixture
def post_signed():
    http = HttpClient()

    def post(path: str, params: dict[str, str], **headers: Any) -> Any:
        return http.post(path, params, **(headers or signed(path, params)))

    return post


def next_day_at(client: Any, hour: int, days: int = 2) -> datetime:
    zone = ZoneInfo(client.timezone)
    day = (datetime.now(zone) + timedelta(days=days)).date()
    return datetime.combine(day, datetime.min.time(), zone).replace(hour=hour)


def in_schema(client: Any):
    return tenant_context(client)
