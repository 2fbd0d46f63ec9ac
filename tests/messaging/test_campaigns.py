"""Message campaigns: contacts from CSV or leads, batches on a schedule outside quiet hours, opt-outs skipped, retries
after a failure, progress per contact, pause and resume, roles and isolation, bad files."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import responses
from django.utils import timezone

from apps.core.errors import InvalidInput, NotFound, PayloadTooLarge, PermissionDenied
from apps.crm.models import Lead
from apps.integrations import services as integrations
from apps.messaging import campaigns
from apps.messaging.contacts import contact_for, contact_opt_out
from apps.messaging.models import Campaign, CampaignRecipient, MessagingSettings
from tests.messaging.conftest import in_schema

pytestmark = pytest.mark.django_db
CSV = (b"phone,name,language\n+33 6 11 11 11 11,Amina,fr\n+33622222222,Bob,en\nnot a phone,Zed,fr\n"
       b"+33622222222,Bob again,en\n+212 600 000 001,Youssef,ary\n")
TWILIO = "https://api.twilio.com/2010-04-01/Accounts/AC" + "f" * 32 + "/Messages.json"


def noon(client, days=0):
    zone = ZoneInfo(client.timezone)
    day = (timezone.now().astimezone(zone) + timedelta(days=days)).date()
    return datetime.combine(day, datetime.min.time(), zone).replace(hour=12)


def make(cast, **extra):
    fields = {"name": "Soldes", "channel": "sms", "body": "Bonjour {name}, -20% cette semaine !"}
    fields.update(extra)
    return campaigns.campaign_create(client=cast.client_a, actor=cast.alice, **fields)


def test_it_imports_a_csv_keeping_good_lines_and_reporting_bad_ones(cast):
    with in_schema(cast.client_a):
        campaign = make(cast)
        result = campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                               raw=CSV)
        assert (result.added, result.duplicates, [line for line, _why in result.rejected]) == (3, 1, [4])
        rows = list(campaign.recipients.values_list("address", "name", "language"))
        assert rows == [("+33611111111", "Amina", "fr"), ("+33622222222", "Bob", "en"),
                        ("+212600000001", "Youssef", "ary")]
        semicolons = "\ufeffphone;name\n+33633333333;Chloé\n".encode()
        again = campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                              raw=semicolons)
        assert again.added == 1 and campaign.recipients.count() == 4


@pytest.mark.parametrize(("raw", "error"), [
    (b"name\nAmina\n", InvalidInput),  # no phone column
    (b"phone\n\xff\xfe+336\n", InvalidInput),  # not UTF-8
    (b"phone\n+33611111111\x00\n", InvalidInput),
    (b"phone\n" + b"+33611111111\n" * 200000, PayloadTooLarge),
])
def test_it_refuses_bad_files(cast, raw, error):
    with in_schema(cast.client_a):
        campaign = make(cast)
        with pytest.raises(error):
            campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, raw=raw)
        assert not campaign.recipients.exists()


@pytest.mark.parametrize("fields", [{"name": ""}, {"channel": "fax"}, {"body": ""}, {"max_attempts": "99"},
                                    {"retry_minutes": "-1"}, {"batch_size": "9" * 40}, {"name": "\x00\ud800"},
                                    {"template_id": 10**12, "channel": "whatsapp"}])
def test_it_refuses_bad_campaigns(cast, fields):
    with in_schema(cast.client_a):
        with pytest.raises((InvalidInput, NotFound, PayloadTooLarge)):
            make(cast, **fields)
        assert not Campaign.objects.exists()


def test_members_cannot_and_other_clients_cannot_see_it(cast):
    with in_schema(cast.client_a):
        campaign = make(cast)
        with pytest.raises(PermissionDenied):
            campaigns.campaign_create(client=cast.client_a, actor=cast.bob, name="x", channel="sms", body="x")
        with pytest.raises(PermissionDenied):
            campaigns.campaign_set_status(client=cast.client_a, actor=cast.carol, campaign_id=campaign.pk,
                                          action="start")
    with in_schema(cast.client_b):
        with pytest.raises(NotFound):
            campaigns.campaign_set_status(client=cast.client_b, actor=cast.carol, campaign_id=campaign.pk,
                                          action="start")
        for bad in ("x", -1, 10**30, None):
            with pytest.raises(NotFound):
                campaigns.campaign_detail(campaign_id=bad)


def test_it_sends_in_batches_skips_opted_out_people_and_reports_progress(cast, django_capture_on_commit_callbacks):
    with in_schema(cast.client_a):
        MessagingSettings.objects.create(pk=1)
        contact_opt_out(contact=contact_for(channel="sms", address="+33622222222"), word="STOP")
        campaign = make(cast, batch_size=2, start_at=noon(cast.client_a, days=1))
        campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, raw=CSV)
        with pytest.raises(InvalidInput):
            campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                          action="pause")
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, action="start")
    start = noon(cast.client_a, days=1)
    assert campaigns.campaigns_sweep(now=start - timedelta(hours=1))["queued"] == 0  # not started yet
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_sweep(now=start)["queued"] == 1  # Amina; Bob opted out
        assert campaigns.campaigns_sweep(now=start + timedelta(minutes=1))["queued"] == 1  # Youssef
    with in_schema(cast.client_a):
        statuses = dict(campaign.recipients.values_list("name", "status"))
        assert statuses == {"Amina": "sent", "Bob": "opted_out", "Youssef": "sent"}
        progress = campaigns.campaign_progress(campaign)
        assert (progress["total"], progress["done"], progress["percent"]) == (3, 3, 100)
        campaign.refresh_from_db()
        assert campaign.status == "done"
        body = campaign.recipients.get(name="Amina").delivery.body
        assert body == "Bonjour Amina, -20% cette semaine !"


def test_quiet_hours_hold_a_campaign(cast):
    with in_schema(cast.client_a):
        MessagingSettings.objects.create(pk=1)
        campaign = make(cast, start_at=noon(cast.client_a))
        campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, raw=CSV)
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, action="start")
    night = noon(cast.client_a, days=1).replace(hour=23)
    assert campaigns.campaigns_sweep(now=night)["queued"] == 0
    with in_schema(cast.client_a):
        assert not campaign.recipients.exclude(status="pending").exists()


@responses.activate
def test_a_failed_message_is_tried_again_later_then_sent(cast, django_capture_on_commit_callbacks):
    responses.add(responses.POST, TWILIO, status=400, json={"code": 30008, "message": "Unknown error",
                                                            "status": 400})
    responses.add(responses.POST, TWILIO, status=201, json={"sid": "SM" + "9" * 32, "status": "queued"})
    with in_schema(cast.client_a):
        integrations.account_connect(client=cast.client_a, kind="sms", provider="twilio", actor=cast.alice,
                                     values={"account_sid": "AC" + "f" * 32, "auth_token": "tok",
                                             "from_number": "+15550109001"})
        MessagingSettings.objects.create(pk=1, quiet_start=time(0), quiet_end=time(0))  # no quiet hours: real time
        campaign = make(cast, retry_minutes=10)
        campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                      raw=b"phone,name\n+33611111111,Amina\n")
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, action="start")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_sweep(now=start)["queued"] == 1
    with in_schema(cast.client_a):
        recipient = campaign.recipients.get()
        assert (recipient.status, recipient.attempts) == ("pending", 1) and "30008" in recipient.last_error
        assert recipient.next_at > timezone.now() + timedelta(minutes=9)
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_sweep(now=start + timedelta(minutes=1))["queued"] == 0  # not yet
        assert campaigns.campaigns_sweep(now=recipient.next_at + timedelta(seconds=1))["queued"] == 1
    with in_schema(cast.client_a):
        recipient.refresh_from_db()
        assert (recipient.status, recipient.attempts) == ("sent", 2)
        assert recipient.delivery.provider_message_id == "SM" + "9" * 32
    assert len(responses.calls) == 2


def test_pause_stops_it_and_resume_goes_on(cast, django_capture_on_commit_callbacks):
    with in_schema(cast.client_a):
        campaign = make(cast, batch_size=1, start_at=noon(cast.client_a))
        campaigns.campaign_import_csv(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, raw=CSV)
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, action="start")
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk, action="pause")
    start = noon(cast.client_a, days=1)
    assert campaigns.campaigns_sweep(now=start)["queued"] == 0
    with in_schema(cast.client_a):
        campaigns.campaign_set_status(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                      action="resume")
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_sweep(now=start + timedelta(minutes=1))["queued"] == 1


def test_a_segment_of_leads_becomes_the_contacts(cast):
    with in_schema(cast.client_a):
        Lead.objects.create(name="Nadia", phone="+33644444444", status="new")
        Lead.objects.create(name="Omar", phone="", email="o@example.com", status="new")
        Lead.objects.create(name="Paul", phone="+33655555555", status="won")
        campaign = make(cast)
        result = campaigns.campaign_import_leads(client=cast.client_a, actor=cast.alice, campaign_id=campaign.pk,
                                                 status="new")
        assert result.added == 1 and list(campaign.recipients.values_list("name", flat=True)) == ["Nadia"]
        assert CampaignRecipient.objects.filter(campaign=campaign).count() == 1
