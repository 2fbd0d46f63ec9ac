"""An unknown address gets the product's translated 404 page, never Django's list of URL patterns (`make run`
serves with DEBUG on)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

pytestmark = pytest.mark.django_db

URL_LIST = "Using the URLconf"  # Django's technical 404 page, which then lists every pattern


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def test_it_answers_an_unknown_address_on_a_client_host_with_the_products_page(cast, as_user, debug):
    carol = as_user(cast.carol, cast.client_b)  # bravo speaks Arabic
    response = carol.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="ar" dir="rtl">' in page
    assert "<h1>404</h1>" in page and "الصفحة غير موجودة." in page
    assert URL_LIST not in page and "admin/" not in page


def test_it_answers_a_missing_row_with_the_products_page(cast, as_user, debug):
    response = as_user(cast.alice, cast.client_a).get("/conversations/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found." in page and "No Conversation matches" not in page and "Traceback" not in page


def test_it_still_adds_the_missing_slash(cast, as_user, debug):
    response = as_user(cast.alice, cast.client_a).get("/team")
    assert (response.status_code, response["Location"]) == (301, "/team/")


def test_it_answers_unknown_platform_and_widget_addresses_without_the_url_list(debug):
    page = HttpClient(HTTP_HOST="localhost").get("/no-such-page/")
    assert page.status_code == 404 and URL_LIST not in page.content.decode()
    api = HttpClient(HTTP_HOST="localhost").get("/widget/v1/no-such-endpoint", HTTP_ORIGIN="https://x.example")
    assert api.status_code == 404
    assert api.json() == {"error": {"type": "not_found", "code": "not_found", "message": "Page not found.",
                                    "param": None}}


def test_it_shows_the_url_list_only_when_asked(cast, as_user, settings):
    settings.DEBUG, settings.DEBUG_URL_LIST = True, True
    assert URL_LIST in as_user(cast.alice, cast.client_a).get("/no-such-page/").content.decode()
