"""Agency admin on the platform host: allauth sign-in, MFA required, actions audited."""

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client as HttpClient
from django.utils import translation
from django.utils.html import escape
from django_tenants.utils import tenant_context

from apps.audit.models import AuditEvent
from apps.clients import regional, services, slugs
from apps.clients.models import Client, Invitation, Plan, StaffAccessGrant
from apps.core.errors import InvalidInput
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def staff_http(user):
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


def test_it_sends_anonymous_visitors_to_allauth_login(cast):
    response = HttpClient().get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    response = HttpClient().get(response["Location"])
    assert response["Location"].startswith("/accounts/login/?next=")


def test_it_requires_mfa_before_the_admin(cast):
    Authenticator.objects.filter(user=cast.staff).delete()
    http = staff_http(cast.staff)
    response = http.get("/admin/", follow=True)
    urls = [url for url, _status in response.redirect_chain]
    assert urls[0] == "/admin/login/?next=/admin/"
    assert urls[1] == "/accounts/2fa/totp/activate/?next=/admin/"  # then allauth asks for the password again
    assert response.status_code == 200


def test_it_opens_the_admin_to_staff_with_mfa(cast):
    response = staff_http(cast.staff).get("/admin/clients/client/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Client ALPHA" in content and "Client BRAVO" in content
    assert "Vocalia agency administration" in content


def test_it_keeps_client_owners_out_of_the_admin(cast):
    response = staff_http(cast.alice).get("/admin/")
    assert response.status_code == 302


def test_it_suspends_from_the_admin(cast):
    http = staff_http(cast.staff)
    response = http.post("/admin/clients/client/", {"action": "action_suspend", "_selected_action": [cast.client_b.pk]})
    assert response.status_code == 302
    assert Client.objects.get(pk=cast.client_b.pk).status == "suspended"
    with tenant_context(cast.client_b):
        assert AuditEvent.objects.filter(action="client.suspended", actor_email="staff@agency.test").exists()


def test_it_opens_a_dashboard_as_staff_with_an_audited_link(cast):
    http = staff_http(cast.staff)
    response = http.post("/admin/clients/client/", {"action": "action_open_dashboard",
                                                    "_selected_action": [cast.client_a.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith("http://alpha.localhost:8000/staff-access/")
    grant = StaffAccessGrant.objects.get(client=cast.client_a)
    assert grant.staff == cast.staff and grant.used_at is None


def test_it_creates_and_provisions_a_client_from_the_admin(cast, django_capture_on_commit_callbacks):
    http = staff_http(cast.staff)
    form = {"name": "Foxtrot", "slug": "foxtrot", "plan": cast.client_a.plan_id, "owner_email": "",
            "sector": "", "default_language": "es", "timezone": "Europe/Madrid", "currency": "EUR",
            "domains-TOTAL_FORMS": 0, "domains-INITIAL_FORMS": 0, "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0, "api_keys-TOTAL_FORMS": 0, "api_keys-INITIAL_FORMS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/admin/clients/client/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(slug="foxtrot")
    assert client.status == "active"
    assert client.domains.get().domain == "foxtrot.localhost"


# --- the index: the agency's own pages first, dj-stripe folded at the end ---------------------------------


def test_it_lists_the_agencys_own_pages_first_and_folds_stripe_last(cast):
    response = staff_http(cast.staff).get("/admin/")
    assert response.status_code == 200
    apps = response.context["app_list"]
    labels = [app["app_label"] for app in apps]
    assert labels[:5] == ["clients", "billing", "accounts", "account", "mfa"]
    assert labels[-1] == "djstripe"
    assert [model["object_name"] for model in apps[0]["models"]] == [
        "Client", "Invitation", "Plan", "Membership", "Domain", "StaffAccessGrant"]
    assert apps[0]["name"] == "Clients" and apps[1]["name"] == "Billing" and apps[2]["name"] == "People"
    stripe = apps[-1]
    assert stripe["name"] == "Stripe (synced data)" and stripe["folded"] is True and len(stripe["models"]) > 30
    content = response.content.decode()
    main = content[content.index('id="content-main"'):]
    assert main.index("/admin/clients/client/") < main.index("/admin/accounts/user/") < main.index("/admin/djstripe/")
    assert f'<summary>Stripe (synced data) <span class="app-folded-count">({len(stripe["models"])})</span></summary>' \
        in main
    assert main.count("<details") == 1 and main.index("/admin/accounts/user/") < main.index("<details")


def test_it_keeps_stripes_synced_tables_reachable(cast):
    http = staff_http(cast.staff)
    response = http.get("/admin/djstripe/")
    assert response.status_code == 200
    assert response.context["app_list"][0]["name"] == "Stripe (synced data)"
    assert http.get("/admin/djstripe/customer/").status_code == 200


def test_it_names_the_index_sections_in_the_staffs_language(cast):
    http = staff_http(cast.staff)
    http.cookies["django_language"] = "fr"
    apps = http.get("/admin/").context["app_list"]
    assert (str(apps[0]["name"]), str(apps[-1]["name"])) == ("Clients", "Stripe (données synchronisées)")
    http.cookies["django_language"] = "ar"
    response = http.get("/admin/")
    assert str(response.context["app_list"][-1]["name"]) == "Stripe (بيانات متزامنة)"
    assert '<html lang="ar" dir="rtl"' in response.content.decode()


# --- invitations: the accept link, never the bare token --------------------------------------------------


def invite(cast, email="newcomer@a.test", role="member"):
    return services.invitation_create(client=cast.client_a, email=email, role=role, actor=cast.staff)


def test_it_shows_the_invitations_accept_link_ready_to_copy(cast):
    invitation = invite(cast)
    response = staff_http(cast.staff).get(f"/admin/clients/invitation/{invitation.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    url = f"http://alpha.localhost:8000/invite/{invitation.token}/"
    assert f'<input type="text" readonly value="{url}" aria-label="Invitation link" spellcheck="false">' in content
    assert content.count(str(invitation.token)) == 1  # in the link, and nowhere else
    assert 'data-copied="Copied">Copy</button>' in content
    assert "agency-admin/admin.js" in content


def test_it_hides_the_link_of_an_invitation_already_accepted(cast):
    invitation = invite(cast)
    services.invitation_accept(invitation=invitation, password=PASSWORD)
    content = staff_http(cast.staff).get(f"/admin/clients/invitation/{invitation.pk}/change/").content.decode()
    assert str(invitation.token) not in content
    assert "Accepted: this invitation&#x27;s link no longer works." in content


def test_it_lists_invitations_with_their_state_and_no_token(cast):
    pending, used = invite(cast), invite(cast, email="second@a.test")
    services.invitation_revoke(invitation=used, actor=cast.staff)
    content = staff_http(cast.staff).get("/admin/clients/invitation/").content.decode()
    assert str(pending.token) not in content and str(used.token) not in content
    assert '<td class="field-state">Pending</td>' in content and '<td class="field-state">Revoked</td>' in content


def test_it_invites_from_the_admin_through_the_service_and_shows_the_link(cast, mailoutbox,
                                                                        django_capture_on_commit_callbacks):
    http = staff_http(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/admin/clients/invitation/add/", {"client": cast.client_a.pk,
                                                                "email": "  Newcomer@A.test ", "role": "admin"})
    invitation = Invitation.objects.get(client=cast.client_a, email="newcomer@a.test")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/clients/invitation/{invitation.pk}/change/"
    assert (invitation.role, invitation.invited_by) == ("admin", cast.staff)
    url = f"http://alpha.localhost:8000/invite/{invitation.token}/"
    assert len(mailoutbox) == 1 and url in mailoutbox[0].body
    assert str(invitation.token) not in response.cookies["messages"].value  # messages travel in a cookie
    page = http.get(response["Location"]).content.decode()
    assert "Invitation sent to newcomer@a.test. Its link is on the invitation&#x27;s page, ready to copy." in page
    assert page.count(f'value="{url}"') == 1
    with tenant_context(cast.client_a):
        assert AuditEvent.objects.filter(action="member.invited", target="newcomer@a.test",
                                         actor_email="staff@agency.test").exists()


def test_it_invites_a_clients_owner_again_from_the_admin(cast, mailoutbox, django_capture_on_commit_callbacks):
    Client.objects.filter(pk=cast.client_a.pk).update(owner_email="boss@a.test")
    http = staff_http(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/admin/clients/client/", {"action": "action_invite_owner",
                                                        "_selected_action": [cast.client_a.pk, cast.client_b.pk]})
    assert response.status_code == 302
    invitation = Invitation.objects.get(client=cast.client_a, email="boss@a.test")
    assert invitation.role == "owner" and invitation.is_pending and len(mailoutbox) == 1
    listing = http.get(response["Location"]).content.decode()
    assert ("Client ALPHA: invitation sent to boss@a.test. Its link is on the client&#x27;s page, under "
            "“Owner&#x27;s invitation”.") in listing
    assert "Client BRAVO: an invitation needs an active client with an owner e-mail." in listing
    page = http.get(f"/admin/clients/client/{cast.client_a.pk}/change/").content.decode()
    assert f'value="http://alpha.localhost:8000/invite/{invitation.token}/"' in page


def test_it_refuses_to_invite_a_member_again_from_the_admin(cast):
    response = staff_http(cast.staff).post("/admin/clients/invitation/add/", {
        "client": cast.client_a.pk, "email": "bob@a.test", "role": "member"})
    assert response.status_code == 200
    assert "This person is already a member." in response.content.decode()
    assert not Invitation.objects.filter(email="bob@a.test").exists()


def test_it_revokes_invitations_from_the_admin(cast):
    invitation = invite(cast)
    response = staff_http(cast.staff).post("/admin/clients/invitation/", {
        "action": "action_revoke", "_selected_action": [invitation.pk]})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


# --- creating a client: the owner's link, the slug, time zone and currency ---------------------------------


def client_form(cast, **changes):
    form = {"name": "Foxtrot", "slug": "foxtrot", "plan": cast.client_a.plan_id, "owner_email": "", "sector": "",
            "default_language": "es", "timezone": "Europe/Madrid", "currency": "EUR",
            "domains-TOTAL_FORMS": 0, "domains-INITIAL_FORMS": 0, "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0, "api_keys-TOTAL_FORMS": 0, "api_keys-INITIAL_FORMS": 0}
    return {**form, **changes}


def test_it_shows_the_owners_invitation_link_after_creating_a_client(cast, django_capture_on_commit_callbacks):
    http = staff_http(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post("/admin/clients/client/add/", client_form(cast, owner_email="Owner@Foxtrot.test"))
    client = Client.objects.get(slug="foxtrot")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/clients/client/{client.pk}/change/"
    invitation = Invitation.objects.get(client=client)
    assert (invitation.email, invitation.role) == ("owner@foxtrot.test", "owner")
    url = f"http://foxtrot.localhost:8000/invite/{invitation.token}/"
    page = http.get(response["Location"]).content.decode()
    assert "Provisioning is done. Send the owner this link to set a password and sign in:" in page
    assert page.count(f'value="{url}"') == 2  # the message, and the "owner's invitation" field
    again = http.get(response["Location"]).content.decode()
    assert "Provisioning is done." not in again and again.count(f'value="{url}"') == 1


def test_it_says_where_the_owners_link_will_be_while_provisioning_runs(cast):
    http = staff_http(cast.staff)
    response = http.post("/admin/clients/client/add/", client_form(cast, owner_email="owner@foxtrot.test"))
    assert response.status_code == 302  # the provisioning task waits for the commit, which this test never makes
    page = http.get(response["Location"]).content.decode()
    assert "The owner&#x27;s invitation link will be on this page once it is done." in page
    assert "The link appears here once provisioning is done: reload this page in a few seconds." in page
    assert "/invite/" not in page


def test_it_fills_the_slug_from_the_name_on_the_add_page_only(cast):
    http = staff_http(cast.staff)
    content = http.get("/admin/clients/client/add/").content.decode()
    assert ('data-prepopulated-fields="[{&quot;id&quot;: &quot;#id_slug&quot;, &quot;name&quot;: &quot;slug&quot;, '
            '&quot;dependency_ids&quot;: [&quot;#id_name&quot;], &quot;dependency_list&quot;: [&quot;name&quot;], '
            '&quot;maxLength&quot;: 40, &quot;allowUnicode&quot;: false}]"') in content
    assert "Use 3 to 40 characters: lowercase letters a–z, digits and hyphens, starting with a letter and not " \
           "ending with a hyphen. Accents are dropped (“riad-fès” becomes “riad-fes”). It becomes the client&#x27;s " \
           "address, for example riad-fes.localhost, and cannot be changed later." in content
    change = http.get(f"/admin/clients/client/{cast.client_a.pk}/change/").content.decode()
    assert "#id_slug" not in change


@pytest.mark.parametrize("slug, message", [
    ("riad fès", "“riad fes” is not a valid slug. Use 3 to 40 characters: lowercase letters a–z, digits and "
                 "hyphens, starting with a letter and not ending with a hyphen."),
    ("riad_fes", "“riad_fes” is not a valid slug. Use 3 to 40 characters"),
    ("9lives", "“9lives” is not a valid slug."),
    ("admin", "“admin” is reserved for the platform; choose another slug."),
    ("xn--riad", "“xn--riad” cannot have hyphens as its 3rd and 4th characters: host names keep that for "
                 "international names."),
])
def test_it_says_what_a_slug_may_contain(cast, slug, message):
    response = staff_http(cast.staff).post("/admin/clients/client/add/", client_form(cast, slug=slug))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Client.objects.filter(name="Foxtrot").exists()


def test_it_folds_accents_in_the_slug_into_the_host_and_schema(cast):
    response = staff_http(cast.staff).post("/admin/clients/client/add/",
                                           client_form(cast, name="Riad Fès", slug="Riad-Fès"))
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(name="Riad Fès")
    assert (client.slug, client.schema_name) == ("riad-fes", "c_riad_fes")
    assert client.domains.get().domain == "riad-fes.localhost"


def test_it_folds_accents_and_explains_bad_slugs_in_the_service(cast):
    plan = Plan.objects.get(code="pro")
    client = services.client_create(name="Café", slug="Café-Crème", plan=plan, provision=False)
    assert (client.slug, client.schema_name) == ("cafe-creme", "c_cafe_creme")
    with pytest.raises(InvalidInput) as error:
        services.client_create(name="x", slug="café_crème", plan=plan, provision=False)
    assert error.value.message.startswith("“cafe_creme” is not a valid slug. Use 3 to 40 characters")


def test_it_offers_time_zones_and_currencies_to_choose_from(cast):
    content = staff_http(cast.staff).get("/admin/clients/client/add/").content.decode()
    select = content[content.index('<select name="timezone"'):]
    select = select[:select.index("</select>")]
    assert select.index('<optgroup label="Common">') < select.index('<optgroup label="All time zones">')
    common = select[:select.index('<optgroup label="All time zones">')]
    assert common.index('"Africa/Casablanca"') < common.index('"Europe/Paris"') < common.index('"Europe/Madrid"')
    assert '<option value="America/New_York">America/New York</option>' in select
    assert select.count("<option") == len(regional.COMMON_TIMEZONES) + len(regional.TIMEZONES)
    assert "US/Eastern" not in select and "localtime" not in select
    currency = content[content.index('<select name="currency"'):]
    currency = currency[:currency.index("</select>")]
    assert '<option value="MAD">MAD – Moroccan dirham</option>' in currency
    assert '<option value="EUR" selected>EUR – Euro</option>' in currency  # the model's default
    assert currency.count("<option") == len(regional.CURRENCIES)


@pytest.mark.parametrize("field, value", [("timezone", "Mars/Base"), ("timezone", "localtime"),
                                          ("currency", "XYZ"), ("currency", "eur")])
def test_it_refuses_an_unknown_time_zone_or_currency_from_the_admin(cast, field, value):
    response = staff_http(cast.staff).post("/admin/clients/client/add/", client_form(cast, **{field: value}))
    assert response.status_code == 200
    assert f"Select a valid choice. {value} is not one of the available choices." in response.content.decode()
    assert not Client.objects.filter(slug="foxtrot").exists()


def test_it_edits_a_clients_time_zone_and_currency_from_the_admin(cast):
    response = staff_http(cast.staff).post(f"/admin/clients/client/{cast.client_a.pk}/change/", client_form(
        cast, name=cast.client_a.name, default_language="en", timezone="Africa/Casablanca", currency="MAD"))
    assert response.status_code == 302, response.content.decode()[:2000]
    client = Client.objects.get(pk=cast.client_a.pk)
    assert (client.slug, client.timezone, client.currency) == ("alpha", "Africa/Casablanca", "MAD")


@pytest.mark.parametrize("changes, message", [
    ({"timezone_name": "Mars/Base"}, "“Mars/Base” is not a time zone we know"),
    ({"currency": "XYZ"}, "“XYZ” is not a currency we offer; choose one of MAD, EUR, USD"),
])
def test_it_refuses_an_unknown_time_zone_or_currency_in_the_service(cast, changes, message):
    with pytest.raises(InvalidInput) as error:
        services.client_create(name="Golf", slug="golf", plan=Plan.objects.get(code="pro"), provision=False,
                               **changes)
    assert error.value.message.startswith(message)
    assert not Client.objects.filter(slug="golf").exists()


def test_it_explains_slugs_in_the_staffs_language(cast):
    http = staff_http(cast.staff)
    http.cookies["django_language"] = "ar"
    content = http.post("/admin/clients/client/add/", client_form(cast, slug="riad_fes")).content.decode()
    with translation.override("ar"):
        expected = slugs.slug_problem("riad_fes")
    assert expected == "«riad_fes» ليس معرّفًا صالحًا. استعمل من 3 إلى 40 حرفًا: حروف لاتينية صغيرة a–z وأرقام " \
                       "وشرطات، تبدأ بحرف ولا تنتهي بشرطة."
    assert escape(expected) in content


def test_it_shows_a_rotated_secret_key_on_the_answer_never_in_a_message_cookie(cast):
    from apps.clients.models import ApiKey

    http = staff_http(cast.staff)
    before = set(ApiKey.objects.filter(client=cast.client_b, kind=ApiKey.Kind.SECRET).values_list("pk", flat=True))
    response = http.post("/admin/clients/client/", {"action": "action_rotate_secret",
                                                    "_selected_action": [cast.client_b.pk]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    shown = page.split('class="secret-key">')[1].split("</code>")[0]
    assert shown.startswith("sk_")
    key = ApiKey.objects.filter(client=cast.client_b, kind=ApiKey.Kind.SECRET).latest("pk")
    assert key.pk not in before and services.keys.secret_hash(shown) == key.secret_hash
    assert "messages" not in response.cookies or shown not in response.cookies["messages"].value
    assert shown not in http.get("/admin/clients/client/").content.decode()
