"""A person's number as they type it becomes E.164, in the client's country (from its time zone)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.clients.models import Client
from apps.core.phones import client_phone_e164, phone_e164, region_for_zone
from apps.messaging.contacts import address_normalise


def test_the_country_comes_from_the_time_zone():
    assert region_for_zone("Africa/Casablanca") == "MA"
    assert region_for_zone("Europe/Paris") == "FR"
    assert region_for_zone("Europe/Madrid") == "ES"
    assert region_for_zone("Etc/UTC") is None and region_for_zone("") is None


@pytest.mark.parametrize("typed, region, expected", [
    ("0661234567", "MA", "+212661234567"),
    ("0661 23 45 67", "MA", "+212661234567"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("612 345 678", "ES", "+34612345678"),
    ("+212 661-234567", None, "+212661234567"),
    ("00212661234567", "FR", "+212661234567"),
    ("whatsapp:+33612345678", None, "+33612345678"),
    ("+1 555 010 0001", None, "+15550100001"),  # international numbers are kept as written
    ("0661234567", None, ""),  # a national number with no country to read it in
    ("0612", "FR", ""), ("", "FR", ""), ("+33\x00612345678", "FR", ""), ("\udcff", "FR", ""),
    ("9" * 200, "FR", ""), ("abc", "MA", ""),
])
def test_it_reads_numbers_as_people_type_them(typed, region, expected):
    assert phone_e164(typed, region=region) == expected


@pytest.mark.django_db
def test_messages_and_calls_read_them_in_the_clients_country(cast):
    Client.objects.filter(pk=cast.client_b.pk).update(timezone="Africa/Casablanca")
    moroccan = Client.objects.get(pk=cast.client_b.pk)
    with tenant_context(moroccan):
        assert client_phone_e164("0661234567") == "+212661234567"
        assert address_normalise(channel="sms", address="0661 23 45 67") == "+212661234567"
    with tenant_context(cast.client_a):  # Europe/Paris
        assert address_normalise(channel="whatsapp", address="06 61 23 45 67") == "+33661234567"
