"""Agency staff see and assign numbers in the admin; the action points a number's URLs at us."""

from __future__ import annotations

import pytest

from apps.integrations.telephony.base import NumberUrls
from apps.integrations.telephony.memory import MemoryTelephony
from apps.telephony.models import PhoneNumber
from tests.test_admin import staff_http

pytestmark = pytest.mark.django_db


def test_staff_list_numbers_and_point_them_here(cast):
    owned = MemoryTelephony().number_buy(e164="+15550100401", urls=NumberUrls(voice_url="https://old.example/v",
                                                                           status_callback=""))
    number = PhoneNumber.objects.create(e164="+15550100401", client=cast.client_a, provider_sid=owned.sid)
    http = staff_http(cast.staff)
    assert "+15550100401" in http.get("/admin/telephony/phonenumber/").content.decode()
    response = http.post("/admin/telephony/phonenumber/", {"action": "action_point_here",
                                                           "_selected_action": [number.pk]}, follow=True)
    assert response.status_code == 200
    assert MemoryTelephony.numbers["+15550100401"].voice_url == "http://localhost:8000/telephony/twilio/voice"


def test_owners_are_kept_out(cast):
    assert staff_http(cast.alice).get("/admin/telephony/phonenumber/").status_code in (302, 403)
