"""The dashboard's messaging pages: settings and WhatsApp templates, people, campaigns. Roles, isolation, bad input."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.messaging.models import Campaign, Contact, MessagingSettings, WhatsAppTemplate
from tests.messaging.conftest import in_schema

pytestmark = pytest.mark.django_db
SID = "HX" + "0123456789abcdef" * 2


def test_the_pages_answer_in_five_languages_with_the_right_direction(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    for language, direction in (("fr", "ltr"), ("en", "ltr"), ("es", "ltr"), ("ar", "rtl"), ("ary", "rtl")):
        http.cookies["django_language"] = language
        for path in ("/messaging/", "/messaging/contacts/", "/campaigns/"):
            response = http.get(path)
            assert response.status_code == 200, path
            assert f'dir="{direction}"' in response.content.decode()
    http.cookies["django_language"] = "fr"
    assert "Heures calmes" in http.get("/messaging/").content.decode()


def test_an_owner_saves_quiet_hours_and_templates(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    assert http.post("/messaging/settings/", {"quiet_start": "22:00", "quiet_end": "07:30",
                                              "reopen_hours": "48"}).status_code == 302
    response = http.post("/messaging/templates/", {"name": "rappel", "purpose": "reminder_24h", "language": "fr",
                                                   "content_sid": SID, "variables": "name, date, time",
                                                   "preview": "Bonjour {{1}}, RDV le {{2}} à {{3}}"})
    assert response.status_code == 302
    with in_schema(cast.client_a):
        row = MessagingSettings.objects.get()
        assert (row.quiet_start.isoformat(), row.quiet_end.isoformat(), row.reopen_hours) == ("22:00:00", "07:30:00",
                                                                                              48)
        template = WhatsAppTemplate.objects.get()
        assert template.variables == ["name", "date", "time"] and template.content_sid == SID
        assert AuditEvent.objects.filter(action="messaging.template_saved").exists()
    page = http.get("/messaging/").content.decode()
    assert SID in page and "rappel" in page
    assert http.post(f"/messaging/templates/{template.pk}/remove/").status_code == 302
    with in_schema(cast.client_a):
        assert not WhatsAppTemplate.objects.exists()


@pytest.mark.parametrize("fields", [
    {"content_sid": "HX123"}, {"content_sid": "HX" + "z" * 32}, {"purpose": "spam"}, {"language": "de"},
    {"variables": "name, password"}, {"name": ""}, {"name": "\x00"},
])
def test_it_refuses_a_bad_template_with_a_message(cast, as_user, fields):
    http = as_user(cast.alice, cast.client_a)
    data = {"name": "x", "purpose": "confirmed", "language": "fr", "content_sid": SID, **fields}
    response = http.post("/messaging/templates/", data, follow=True)
    assert response.status_code == 200 and 'class="badge bad' not in response.content.decode()[:0]
    assert response.redirect_chain[-1][0].endswith("/messaging/")
    with in_schema(cast.client_a):
        assert not WhatsAppTemplate.objects.exists()


@pytest.mark.parametrize("fields", [{"quiet_start": "25:00"}, {"quiet_end": "x"}, {"reopen_hours": "9" * 50},
                                    {"reopen_hours": "-3"}, {"quiet_start": "\x00"}])
def test_it_refuses_bad_settings(cast, as_user, fields):
    http = as_user(cast.alice, cast.client_a)
    data = {"quiet_start": "21:00", "quiet_end": "08:00", "reopen_hours": "24", **fields}
    assert http.post("/messaging/settings/", data).status_code == 302
    with in_schema(cast.client_a):
        assert not MessagingSettings.objects.filter(reopen_hours__gt=24 * 30).exists()
        assert not MessagingSettings.objects.exclude(quiet_start="21:00").exists()


def test_a_member_reads_but_cannot_change(cast, as_user):
    http = as_user(cast.bob, cast.client_a)
    page = http.get("/messaging/").content.decode()
    assert 'id="manager-only"' in page and 'name="content_sid"' not in page
    assert http.post("/messaging/templates/", {"name": "x", "purpose": "confirmed", "language": "fr",
                                               "content_sid": SID}).status_code == 403
    assert http.post("/messaging/settings/", {"quiet_start": "00:00", "quiet_end": "00:00",
                                              "reopen_hours": "1"}).status_code == 403
    assert 'id="new-campaign"' not in http.get("/campaigns/").content.decode()
    with in_schema(cast.client_a):
        assert not WhatsAppTemplate.objects.exists()
        assert not MessagingSettings.objects.exclude(quiet_start="21:00", reopen_hours=24).exists()  # the defaults


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("contacts.csv", text.encode(), content_type="text/csv")


def test_an_owner_creates_starts_pauses_and_resumes_a_campaign(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    response = http.post("/campaigns/new/", {
        "name": "Soldes", "channel": "sms", "body": "Bonjour {name} !", "source": "csv", "start_date": "31/12/2026",
        "start_time": "10:00", "max_attempts": "2", "retry_minutes": "15", "batch_size": "10",
        "file": _csv("phone,name\n+33611111111,Amina\nbad,Zed\n")})
    assert response.status_code == 302
    with in_schema(cast.client_a):
        campaign = Campaign.objects.get()
        assert campaign.recipients.count() == 1 and campaign.max_attempts == 2
        assert campaign.start_at.isoformat().startswith("2026-12-31T")
    page = http.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "+33611111111" in page and 'aria-valuenow="0"' in page
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running")):
        assert http.post(f"/campaigns/{campaign.pk}/{action}/").status_code == 302
        with in_schema(cast.client_a):
            campaign.refresh_from_db()
            assert campaign.status == status
    http.post(f"/campaigns/{campaign.pk}/explode/")  # an unknown action: refused, nothing changed
    with in_schema(cast.client_a):
        campaign.refresh_from_db()
        assert campaign.status == "running"


@pytest.mark.parametrize("fields", [
    {"start_date": "31/02/2026"}, {"start_date": "01/01/99999"}, {"start_time": "25:99"},
    {"start_date": "31/12/2099"}, {"template": "1" * 40, "channel": "whatsapp"}, {"channel": "fax"},
    {"file": "nofile"}, {"max_attempts": "1e9"},
])
def test_a_bad_campaign_form_is_refused_with_a_message(cast, as_user, fields):
    http = as_user(cast.alice, cast.client_a)
    data = {"name": "x", "channel": "sms", "body": "hi", "source": "csv", "file": _csv("phone\n+33611111111\n")}
    data.update(fields)
    if data["file"] == "nofile":
        del data["file"]
    response = http.post("/campaigns/new/", data)
    assert response.status_code in (302, 404)
    with in_schema(cast.client_a):
        assert not Campaign.objects.exists()


def test_another_clients_campaign_is_a_404_and_stays_as_it_was(cast, as_user):
    from apps.messaging import campaigns

    with in_schema(cast.client_b):
        theirs = campaigns.campaign_create(client=cast.client_b, actor=cast.carol, name="B", channel="email",
                                           body="x")
    http = as_user(cast.alice, cast.client_a)
    assert http.get(f"/campaigns/{theirs.pk}/").status_code == 404
    assert http.post(f"/campaigns/{theirs.pk}/start/").status_code == 404
    assert http.get(f"/campaigns/{10**18}/").status_code == 404
    with in_schema(cast.client_b):
        theirs.refresh_from_db()
        assert theirs.status == "draft"
    other = as_user(cast.carol, cast.client_a)  # carol is not a member of client A
    assert other.get("/messaging/").status_code == 404


def test_the_people_page_shows_opt_outs_and_the_window(cast, as_user):
    with in_schema(cast.client_a):
        from django.utils import timezone

        Contact.objects.create(channel="whatsapp", address="+33611111111", last_inbound_at=timezone.now())
        Contact.objects.create(channel="sms", address="+33622222222", opted_out_at=timezone.now(),
                               opt_out_word="STOP")
    http = as_user(cast.bob, cast.client_a)
    page = http.get("/messaging/contacts/").content.decode()
    assert page.count('class="contact-row"') == 2 and "«STOP»" in page
    assert http.get("/messaging/contacts/?channel=sms&q=%00%ff").status_code == 200
    filtered = http.get("/messaging/contacts/?channel=whatsapp").content.decode()
    assert filtered.count('class="contact-row"') == 1


def test_undecodable_form_bytes_are_refused_without_a_500(cast, as_user):
    http = as_user(cast.alice, cast.client_a)
    for path, body in (("/messaging/templates/", f"name=%ED%A0%80&purpose=confirmed&language=fr&content_sid={SID}"),
                       ("/campaigns/new/", "name=%ED%A0%80%00&channel=sms&body=x&source=leads"),
                       ("/messaging/settings/", "quiet_start=%ED%A0%80&quiet_end=08:00&reopen_hours=24")):
        response = http.post(path, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (302, 400), path
    with in_schema(cast.client_a):  # Django reads bad bytes as U+FFFD: whatever was kept is clean text
        for name in [*WhatsAppTemplate.objects.values_list("name", flat=True),
                     *Campaign.objects.values_list("name", flat=True)]:
            assert "\x00" not in name and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in name)
