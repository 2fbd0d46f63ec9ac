"""The agency admin in a real browser, as staff (password, then a TOTP code), in English and in Arabic (RTL)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.utils import translation
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, TOTP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db]  # django_db: so the test database is set up

INVITED = "browser-invite@a.test"


@pytest.fixture(scope="module", autouse=True)
def _forget_the_invitations(session_cast: object, django_db_blocker: object) -> Iterator[None]:
    yield
    from django.contrib.admin.models import LogEntry

    from apps.clients.models import Invitation

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        Invitation.objects.filter(email=INVITED).delete()
        LogEntry.objects.filter(object_repr__startswith=INVITED).delete()


def staff_sign_in(page, base: str, language: str = "en") -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.goto(f"{base}/admin/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", "staff@agency.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/accounts/2fa/authenticate/**")
    page.fill("input[name=code]", format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30)))
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def choose_language(page, base: str, language: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page.reload()


def test_it_puts_the_agencys_pages_first_and_folds_stripe(page, live_server_url, session_cast):
    base = f"http://{live_server_url}"
    staff_sign_in(page, base)
    main = page.locator("#content-main")
    captions = [text.strip() for text in main.locator("caption a.section").all_text_contents()]
    assert captions[:3] == ["Clients", "Billing", "People"]
    stripe = main.locator("details.app-folded-djstripe")
    assert stripe.get_attribute("open") is None and not stripe.locator("table").is_visible()
    assert main.locator(".app-clients").bounding_box()["y"] < stripe.bounding_box()["y"]
    assert main.locator(".app-clients tr th a").all_text_contents()[:3] == ["Clients", "Invitations", "Plans"]
    page.screenshot(path=str(ARTIFACTS / "admin-index-en.png"), full_page=True)

    choose_language(page, base, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    with translation.override("ar"):
        first = main.locator("caption a.section").first.text_content().strip()
        assert first == translation.gettext("Clients") == "العملاء"
        assert stripe.locator("summary").inner_text().startswith(translation.gettext("Stripe (synced data)"))
    stripe.locator("summary").click()
    assert stripe.locator("table").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-index-ar.png"), full_page=True)


def test_it_fills_the_slug_from_an_accented_name_and_explains_a_bad_one(page, live_server_url, session_cast):
    base = f"http://{live_server_url}"
    staff_sign_in(page, base)
    page.goto(f"{base}/admin/clients/client/add/")
    page.locator("#id_name").press_sequentially("Riad Fès")
    assert page.input_value("#id_slug") == "riad-fes"
    page.select_option("#id_timezone", "Africa/Casablanca")
    page.select_option("#id_currency", "MAD")
    assert page.locator("#id_timezone optgroup").first.get_attribute("label") == "Common"
    page.screenshot(path=str(ARTIFACTS / "admin-add-client-en.png"), full_page=True)
    folded = page.locator("#nav-sidebar details.app-folded-djstripe")
    assert folded.get_attribute("open") is None
    page.locator("#nav-filter").press_sequentially("invoice")  # the sidebar's filter unfolds a matching section
    expect(folded.locator("tr.model-invoice")).to_be_visible()
    page.locator("#nav-filter").press("Escape")
    expect(folded.locator("table")).to_be_hidden()

    choose_language(page, base, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    page.locator("#id_name").press_sequentially("Riad Fès")
    page.fill("#id_slug", "riad_fes")
    page.select_option("#id_plan", index=1)
    with page.expect_navigation():
        page.click("input[name=_save]")
    with translation.override("ar"):
        from apps.clients import slugs

        expected = slugs.slug_problem("riad_fes")
    assert expected in page.locator(".field-slug .errorlist").inner_text()
    page.screenshot(path=str(ARTIFACTS / "admin-add-client-ar.png"), full_page=True)


def test_it_shows_an_invitations_link_ready_to_copy(page, live_server_url, session_cast):
    base = f"http://{live_server_url}"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    staff_sign_in(page, base)
    page.goto(f"{base}/admin/clients/invitation/add/")
    page.click(".field-client .select2-selection")  # the client is an autocomplete (select2) field
    page.fill(".select2-search__field", "alpha")
    page.click(".select2-results__option:has-text('Client ALPHA')")
    page.fill("#id_email", INVITED)
    with page.expect_navigation():
        page.click("input[name=_save]")
    assert "/admin/clients/invitation/" in page.url and page.url.endswith("/change/")
    field = page.locator(".field-accept_link .copy-link input[readonly]")
    url = field.input_value()
    assert url.startswith(f"http://alpha.{live_server_url}/invite/")
    assert page.locator(".messagelist").inner_text() == (f"Invitation sent to {INVITED}. Its link is on the "
                                                         "invitation's page, ready to copy.")
    field_button = page.locator(".field-accept_link .copy-link button")
    field_button.click()
    expect(field_button).to_have_text("Copied")  # the clipboard answers asynchronously
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.screenshot(path=str(ARTIFACTS / "admin-invitation-en.png"), full_page=True)

    choose_language(page, base, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    box = page.locator(".field-accept_link .copy-link input[readonly]").bounding_box()
    assert box["width"] > 300  # the whole link readable, not squeezed
    page.screenshot(path=str(ARTIFACTS / "admin-invitation-ar.png"), full_page=True)


OWNER = "browser-owner@a.test"


@pytest.fixture(scope="module")
def alpha_owner_invited(session_cast: object, django_db_blocker: object) -> Iterator[object]:
    """Client A with an owner e-mail and a pending owner invitation, committed so the server sees them
    (module-scoped: set up before, and outside, the test's own rolled-back transaction)."""
    from apps.clients import services
    from apps.clients.models import Client, Invitation

    client = session_cast.client_a  # type: ignore[attr-defined]
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        Client.objects.filter(pk=client.pk).update(owner_email=OWNER)
        client.owner_email = OWNER
        invitation = services.invitation_create(client=client, email=OWNER, role="owner", actor=None)
    try:
        yield invitation
    finally:
        with django_db_blocker.unblock():  # type: ignore[attr-defined]
            Invitation.objects.filter(email=OWNER).delete()
            Client.objects.filter(pk=client.pk).update(owner_email="")
            client.owner_email = ""


def test_it_shows_the_owners_link_on_the_clients_page(page, live_server_url, session_cast, alpha_owner_invited):
    base = f"http://{live_server_url}"
    staff_sign_in(page, base)
    page.goto(f"{base}/admin/clients/client/{session_cast.client_a.pk}/change/")  # type: ignore[attr-defined]
    url = page.locator(".field-owner_invitation .copy-link input[readonly]").input_value()
    assert url == f"http://alpha.{live_server_url}/invite/{alpha_owner_invited.token}/"  # type: ignore[attr-defined]
    assert page.locator("#id_timezone").input_value() == session_cast.client_a.timezone  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "admin-client-en.png"), full_page=True)
    choose_language(page, base, "ar")
    assert page.get_attribute("html", "dir") == "rtl"
    page.screenshot(path=str(ARTIFACTS / "admin-client-ar.png"), full_page=True)
