"""Time zones and currencies: the lists offered to staff and owners, and the checks behind them."""

import pytest
from django.test import Client as HttpClient
from django.utils import translation

from apps.clients import regional
from apps.clients.models import Client

pytestmark = pytest.mark.django_db


def test_it_offers_area_city_time_zones_with_the_markets_first():
    assert regional.COMMON_TIMEZONES[:3] == ("Africa/Casablanca", "Europe/Paris", "Europe/Madrid")
    assert set(regional.COMMON_TIMEZONES) <= regional.TIMEZONES
    assert {"Africa/Casablanca", "Europe/Brussels", "America/New_York", "Asia/Dubai", "UTC"} <= regional.TIMEZONES
    assert not {"localtime", "Factory", "US/Eastern", "Etc/GMT+1", "posixrules"} & regional.TIMEZONES
    (common_label, common), (all_label, everything) = regional.timezone_choices()
    assert (str(common_label), str(all_label)) == ("Common", "All time zones")
    assert common[0] == ("Africa/Casablanca", "Africa/Casablanca")
    assert [value for value, _label in everything] == sorted(regional.TIMEZONES)


def test_it_names_currencies_in_the_readers_language():
    assert list(regional.CURRENCIES)[:4] == ["MAD", "EUR", "USD", "GBP"]
    with translation.override("fr"):
        assert str(dict(regional.currency_choices())["MAD"]) == "MAD – Dirham marocain"
    with translation.override("ar"):
        assert str(dict(regional.currency_choices())["MAD"]) == "MAD – درهم مغربي"


def test_it_lets_an_owner_choose_any_time_zone_and_listed_currency(cast, as_user):
    alice = as_user(cast.alice, cast.client_a)
    page = alice.get("/settings/").content.decode()
    assert '<optgroup label="Common">' in page and '<option value="Europe/Brussels">' in page
    response = alice.post("/settings/", {"name": "Alpha", "default_language": "en", "timezone": "Europe/Brussels",
                                         "currency": "CHF"})
    assert response.status_code == 302
    client = Client.objects.get(pk=cast.client_a.pk)
    assert (client.timezone, client.currency) == ("Europe/Brussels", "CHF")


@pytest.mark.parametrize("field, value", [("timezone", "localtime"), ("timezone", "US/Eastern"),
                                          ("currency", "BTC")])
def test_it_refuses_what_the_lists_do_not_offer_on_the_dashboard(cast, as_user, field, value):
    alice = as_user(cast.alice, cast.client_a)
    form = {"name": "Alpha", "default_language": "en", "timezone": "UTC", "currency": "EUR", field: value}
    response = alice.post("/settings/", form)
    assert response.status_code == 200
    assert f"Select a valid choice. {value} is not one of the available choices." in response.content.decode()
    client = Client.objects.get(pk=cast.client_a.pk)
    assert (client.timezone, client.currency) == (cast.client_a.timezone, cast.client_a.currency)


def test_it_keeps_a_stored_value_the_lists_no_longer_offer(cast, as_user):
    Client.objects.filter(pk=cast.client_a.pk).update(timezone="Etc/GMT-1", currency="JPY")
    alice = as_user(cast.alice, cast.client_a)
    page = alice.get("/settings/").content.decode()
    assert '<option value="Etc/GMT-1" selected>Etc/GMT-1</option>' in page
    assert '<option value="JPY" selected>JPY</option>' in page
    response = alice.post("/settings/", {"name": "Alpha", "default_language": "en", "timezone": "Etc/GMT-1",
                                         "currency": "JPY"})
    assert response.status_code == 302
    assert Client.objects.get(pk=cast.client_a.pk).timezone == "Etc/GMT-1"
    staff = HttpClient()
    staff.force_login(cast.staff, backend="django.contrib.auth.backends.ModelBackend")
    admin_page = staff.get(f"/admin/clients/client/{cast.client_a.pk}/change/").content.decode()
    assert '<option value="Etc/GMT-1" selected>Etc/GMT-1</option>' in admin_page
    assert staff.get("/admin/clients/client/add/").content.decode().count("Etc/GMT-1") == 0
