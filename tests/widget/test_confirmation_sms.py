"""The booking's SMS confirmation leaves: it is the booking's own notice (apps.messaging.notices). A booking through
the widget with a phone number given queues a Delivery (apps.messaging → apps.integrations), which the Celery task
sends after the commit."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.integrations.models import Delivery
from apps.widget.services import widget_origins_set
from tests.agents.conftest import ALL_TOOLS, make_agent
from tests.widget.test_api import call, start

pytestmark = pytest.mark.django_db
SHOP = "https://shop.example"


def book(cast, texts, language="fr"):
    conversation = start(cast, language)
    for text in texts:
        response = call("POST", "messages", cast.pk_a, body={"text": text}, token=conversation["token"])
        assert response.status_code == 200, response.content
    return conversation, response.json()


@pytest.fixture
def shop(cast):
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    return cast


def test_a_booking_with_a_phone_queues_the_promised_sms(shop, django_capture_on_commit_callbacks):
    make_agent(shop.client_a, business={"business_name": "Salon Alpha"})
    with django_capture_on_commit_callbacks(execute=True):
        conversation, body = book(shop, ["Je voudrais un rendez-vous mardi", "le premier",
                                         "Salma Bennani, 0661234567"])
    booking = next(e for e in body["events"] if e["type"] == "booking")
    with tenant_context(shop.client_a):
        sms = Delivery.objects.get(channel="sms", conversation_id=conversation["conversation"])
        assert sms.to == "+33661234567"  # read in the client's country (Europe/Paris: France)
        assert sms.purpose == "notice:confirmed"
        assert booking["reference"] in sms.body and "Salon Alpha" in sms.body
        assert sms.status == "sent" and sms.provider == "outbox"  # the task ran after the commit: the offline twin
    assert "SMS" in body["reply"]  # the agent says the confirmation is on its way


@pytest.mark.parametrize("tools, texts", [
    (ALL_TOOLS, ["Je voudrais un rendez-vous mardi", "le premier", "Je m'appelle Ana Lopez", "ana@example.com"]),
])
def test_no_sms_without_a_phone(shop, tools, texts):
    make_agent(shop.client_a, tools=tools)
    conversation, body = book(shop, texts)
    assert any(e["type"] == "booking" for e in body["events"])
    with tenant_context(shop.client_a):
        assert not Delivery.objects.filter(channel="sms").exists()
