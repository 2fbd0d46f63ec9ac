"""Campaigns of calls: a CSV (or leads) → outbound calls through apps/outbound's rules — do-not-call and consent
refusals per contact, the campaign's tries with a doubling back-off (busy, no answer, a machine: a message left),
at most `concurrency` calls at once within the client's free lines (shared with inbound), pause / resume, results
per contact, bad rows reported per row, isolation across clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.clients.models import Client, Plan
from apps.core.errors import FeatureNotInPlan, InvalidInput, NotFound, PermissionDenied
from apps.messaging import campaigns
from apps.messaging.models import Campaign, CampaignRecipient
from apps.outbound import services
from apps.outbound.models import CallConsent, DoNotCall, OutboundCall
from apps.schedule.models import DueWork
from apps.telephony.slots import slot_acquire
from tests.outbound.test_outbound import (
    PUBLIC,
    _allow,
    _open_all_day,
    _query,
    _signed_post,
    _twilio_params,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_public")]

CSV = ("phone,name,language,consent\n"
       "+33 6 11 11 11 11,Amina,fr,web form 3 Nov\n"
       "not a phone,Zed,fr,yes\n"
       "+33622222222,Bo\x00b,en,yes\n"
       "+33633333333,Chloé,fr,\n"
       "+33644444444,Dan,en,signed paper\n")


@pytest.fixture
def _public():
    with override_settings(PUBLIC_URL=PUBLIC):
        yield


def _campaign(cast, client, *, raw: str = CSV, **extra) -> Campaign:
    fields = {"name": "Relance devis", "channel": "call", "body": "Your quote for new windows",
              "max_attempts": 3, "retry_minutes": 10, "concurrency": 2}
    fields.update(extra)
    campaign = campaigns.campaign_create(client=client, actor=cast.alice, **fields)
    campaigns.campaign_import_csv(client=client, actor=cast.alice, campaign_id=campaign.pk, raw=raw.encode())
    campaign.refresh_from_db()
    return campaign


def _started(cast, client, **extra) -> Campaign:
    campaign = _campaign(cast, client, **extra)
    campaigns.campaign_set_status(client=client, actor=cast.alice, campaign_id=campaign.pk, action="start")
    _sweep(client)
    return campaign


def _sweep(client) -> None:
    """The campaigns' beat sweep (it enters each due client and leaves in the public schema): back in `client`."""
    campaigns.campaigns_sweep(now=timezone.now() + timedelta(seconds=1))
    connection.set_tenant(client)


def _status(campaign: Campaign) -> dict[str, str]:
    return dict(campaign.recipients.values_list("address", "status"))


def _dial_due() -> list[OutboundCall]:
    """One outbound sweep's claim in this schema, then each claimed call placed through the telephony twin."""
    ids, _next = services._due_claim_batch(timezone.now() + timedelta(seconds=1))
    for call_id in ids:
        services.outbound_dial(call_id=call_id)
    return list(OutboundCall.objects.filter(pk__in=ids))


def test_it_imports_bad_rows_per_row_and_refuses_people_without_consent_or_on_the_list(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        DoNotCall.objects.create(phone="+33644444444", reason="asked")
        campaign = _campaign(cast, client)
        # Line 3: not a number; line 4: a NUL byte — reported on their line, the good lines kept.
        assert [line for line, _why in campaign.rejected] == [3, 4]
        assert "NUL" in campaign.rejected[1][1]
        # Consent from the file's column, with its source; none recorded for the listed number.
        assert "web form 3 Nov" in CallConsent.objects.get(phone="+33611111111").source
        assert not CallConsent.objects.filter(phone="+33644444444").exists()
        campaigns.campaign_set_status(client=client, actor=cast.alice, campaign_id=campaign.pk, action="start")
        _sweep(client)
        assert _status(campaign) == {"+33611111111": "calling", "+33633333333": "refused",
                                     "+33644444444": "refused"}
        refused = dict(campaign.recipients.filter(status="refused").values_list("address", "last_error"))
        assert "consent" in refused["+33633333333"] and "do-not-call" in refused["+33644444444"]
        call = OutboundCall.objects.get(campaign_recipient__address="+33611111111")
        assert (call.purpose, call.status, call.reason, call.language) == ("campaign", "scheduled",
                                                                          "Your quote for new windows", "fr")
        assert DueWork.objects.filter(client_id=client.pk, kind="outbound").exists()
        from apps.outbound.selectors import outbound_page

        assert outbound_page()["calls"] == []  # a campaign's calls are on the campaign's page


def test_a_number_listed_while_its_call_waits_is_refused_before_it_rings(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client)
        services.dnc_add(client=client, actor=cast.bob, phone="+33611111111", reason="asked by e-mail")
        assert _status(campaign)["+33611111111"] == "refused"
        assert [call.to for call in _dial_due()] == ["+33644444444"]  # the other consenting person only


def test_consent_withdrawn_after_the_claim_blocks_the_dial(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client)
        ids, _next = services._due_claim_batch(timezone.now() + timedelta(seconds=1))
        CallConsent.objects.filter(phone="+33611111111").update(withdrawn_at=timezone.now())
        for call_id in ids:
            services.outbound_dial(call_id=call_id)
        recipient = campaign.recipients.get(address="+33611111111")
        assert recipient.status == "refused" and "consent" in recipient.last_error
        assert OutboundCall.objects.get(campaign_recipient=recipient).provider_call_id == ""


def test_busy_then_a_machine_then_no_answer_retries_with_a_back_off_and_leaves_a_message(cast, http):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client, raw="phone,consent\n+33611111111,yes\n")
        [call] = _dial_due()
        assert call.provider_call_id and call.attempts == 1
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(call)}", _twilio_params(call, CallStatus="busy"))
    with tenant_context(client):
        call.refresh_from_db()
        assert call.status == "scheduled" and call.attempts == 1
        wait = call.next_attempt_at - timezone.now()
        assert timedelta(minutes=9) < wait <= timedelta(minutes=10)  # retry_minutes × 2⁰
        assert campaign.recipients.get().status == "calling"
        OutboundCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())
        [call] = _dial_due()
    answer = _signed_post(http, f"/telephony/twilio/outbound/answer?{_query(call)}",
                          _twilio_params(call, CallStatus="in-progress", AnsweredBy="machine_end_beep"))
    assert "<Say" in answer.content.decode() and "Your quote for new windows" in answer.content.decode()
    with tenant_context(client):
        call.refresh_from_db()
        wait = call.next_attempt_at - timezone.now()
        assert timedelta(minutes=19) < wait <= timedelta(minutes=20)  # × 2¹
        OutboundCall.objects.filter(pk=call.pk).update(next_attempt_at=timezone.now())
        [call] = _dial_due()
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(call)}",
                 _twilio_params(call, CallStatus="no-answer"))
    with tenant_context(client):
        call.refresh_from_db()
        recipient = campaign.recipients.get()
        assert call.status == "failed" and call.attempts == 3
        assert (recipient.status, recipient.attempts) == ("voicemail", 3)  # a message was left on the way
        campaign.refresh_from_db()
        assert campaign.status == "done"
        assert campaigns.campaign_progress(campaign)["voicemail"] == 1


def test_a_person_who_answers_is_answered_and_never_answering_is_no_answer(cast, http):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client, raw="phone,consent\n+33611111111,yes\n+33655555555,yes\n",
                            max_attempts=1)
        first, second = sorted(_dial_due(), key=lambda call: call.to)
    answer = _signed_post(http, f"/telephony/twilio/outbound/answer?{_query(first)}",
                          _twilio_params(first, CallStatus="in-progress", AnsweredBy="human"))
    assert "/telephony/twilio/voice?outbound=" in answer.content.decode()  # to the agent, like any call it places
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(first)}",
                 _twilio_params(first, CallStatus="completed", CallDuration="61"))
    _signed_post(http, f"/telephony/twilio/outbound/status?{_query(second)}",
                 _twilio_params(second, CallStatus="no-answer"))
    with tenant_context(client):
        assert _status(campaign) == {"+33611111111": "answered", "+33655555555": "no_answer"}
        campaign.refresh_from_db()
        assert campaign.status == "done"


def test_the_concurrency_cap_and_the_clients_lines_are_respected(cast):
    client = _allow(cast.client_a)
    Plan.objects.filter(pk=client.plan_id).update(concurrent_calls=4)  # more lines than the campaign's cap
    client = Client.objects.select_related("plan").get(pk=client.pk)
    rows = "phone,consent\n" + "".join(f"+3361000000{n},yes\n" for n in range(5))
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client, raw=rows, concurrency=2)
        first = _dial_due()
        assert len(first) == 2
        assert _dial_due() == []  # two in progress: nobody else is dialled
        claim = DueWork.objects.get(client_id=client.pk, kind="outbound")
        assert claim.next_at is not None and claim.next_at <= timezone.now() + timedelta(seconds=31)  # looks again
        services.outbound_status(call=first[0], status="no-answer")  # one line freed (and a retry later)
        assert len(_dial_due()) == 1
        # Inbound calls take the client's lines too: with every line answered, no campaign call is dialled.
        OutboundCall.objects.filter(status="dialing").update(status="done")
        for n in range(client.plan.concurrent_calls):
            assert slot_acquire(client_id=client.pk, call_sid=f"CAinbound{n}", cap=client.plan.concurrent_calls)
        assert _dial_due() == []
        assert campaign.recipients.filter(status="calling").count() == 5


def test_pause_keeps_waiting_calls_and_resume_dials_them(cast):
    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        campaign = _started(cast, client, raw="phone,consent\n+33611111111,yes\n")
        campaigns.campaign_set_status(client=client, actor=cast.alice, campaign_id=campaign.pk, action="pause")
        ids, following = services._due_claim_batch(timezone.now() + timedelta(seconds=1))
        assert ids == [] and following is None  # the sweep does not come back for a paused campaign
        assert OutboundCall.objects.get().status == "scheduled"
        campaigns.campaign_set_status(client=client, actor=cast.alice, campaign_id=campaign.pk, action="resume")
        assert DueWork.objects.get(client_id=client.pk, kind="outbound").next_at <= timezone.now()
        assert len(_dial_due()) == 1


def test_only_managers_with_the_plan_make_call_campaigns_and_other_clients_see_nothing(cast, as_user):
    with tenant_context(cast.client_a), pytest.raises(FeatureNotInPlan):
        campaigns.campaign_create(client=cast.client_a, actor=cast.alice, name="x", channel="call", body="why")
    client = _allow(cast.client_a)
    _allow(cast.client_b)
    with tenant_context(client):
        _open_all_day()
        with pytest.raises(PermissionDenied):
            campaigns.campaign_create(client=client, actor=cast.bob, name="x", channel="call", body="why")
        with pytest.raises(InvalidInput):
            campaigns.campaign_create(client=client, actor=cast.alice, name="x", channel="call", body="")
        campaign = _started(cast, client)
    with tenant_context(cast.client_b):
        with pytest.raises(NotFound):
            campaigns.campaign_set_status(client=cast.client_b, actor=cast.carol, campaign_id=campaign.pk,
                                          action="pause")
        assert services._due_claim_batch(timezone.now() + timedelta(seconds=1))[0] == []
    carol = as_user(cast.carol, cast.client_b)
    assert carol.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert carol.post(f"/campaigns/{campaign.pk}/pause/").status_code == 404
    with tenant_context(client):
        campaign.refresh_from_db()
        assert campaign.status == "running" and OutboundCall.objects.filter(status="scheduled").count() == 2


def test_the_page_makes_a_call_campaign_reports_bad_lines_and_refuses_a_huge_file(cast, as_user):
    _allow(cast.client_a)
    http = as_user(cast.alice, cast.client_a)
    assert 'value="call"' in http.get("/campaigns/").content.decode()
    response = http.post("/campaigns/new/", {
        "name": "Relance", "channel": "call", "body": "Your quote", "source": "csv", "concurrency": "3",
        "consent_source": "quote form", "max_attempts": "2", "retry_minutes": "15",
        "file": SimpleUploadedFile("c.csv", b"phone,name\n+33611111111,Amina\n+33 6\x0022,Zed\nnope,X\n",
                                   content_type="text/csv")})
    assert response.status_code == 302
    with tenant_context(cast.client_a):
        campaign = Campaign.objects.get()
        assert (campaign.channel, campaign.concurrency, campaign.recipients.count()) == ("call", 3, 1)
        assert "quote form" in CallConsent.objects.get(phone="+33611111111").source
        DoNotCall.objects.create(phone="+33611111111")
    assert 'id="campaign-warning"' in http.get(f"/campaigns/{campaign.pk}/").content.decode()
    with tenant_context(cast.client_a):
        from apps.messaging.campaigns import campaign_detail

        assert {key: campaign_detail(campaign_id=campaign.pk)[1][key] for key in ("listed", "no_consent")} == {
            "listed": 1, "no_consent": 0}
        DoNotCall.objects.all().delete()
    for language, direction in (("fr", "ltr"), ("ar", "rtl")):
        http.cookies["django_language"] = language
        page = http.get(f"/campaigns/{campaign.pk}/")
        assert page.status_code == 200 and f'dir="{direction}"' in page.content.decode()
        assert 'id="campaign-rejected"' in page.content.decode()
    huge = SimpleUploadedFile("big.csv", b"phone\n" + b"+33611111111\n" * 300000, content_type="text/csv")
    response = http.post("/campaigns/new/", {"name": "Big", "channel": "call", "body": "x", "source": "csv",
                                             "file": huge})
    assert response.status_code == 413
    with tenant_context(cast.client_a):
        assert Campaign.objects.count() == 1
        assert CampaignRecipient.objects.count() == 1


def test_a_segment_of_leads_is_called_with_the_members_word_on_their_consent(cast):
    from apps.crm.models import Lead

    client = _allow(cast.client_a)
    with tenant_context(client):
        _open_all_day()
        Lead.objects.create(name="Won lead", phone="+33677777777", status="won")
        Lead.objects.create(name="New lead", phone="+33688888888", status="new")
        Lead.objects.create(name="No phone", email="x@example.com", status="won")
        campaign = campaigns.campaign_create(client=client, actor=cast.alice, name="Fidélité", channel="call",
                                             body="A thank-you offer", consent_source="signed the loyalty form")
        result = campaigns.campaign_import_leads(client=client, actor=cast.alice, campaign_id=campaign.pk,
                                                 status="won")
        assert result.added == 1 and list(campaign.recipients.values_list("address", flat=True)) == ["+33677777777"]
        assert "signed the loyalty form" in CallConsent.objects.get(phone="+33677777777").source
        assert not CallConsent.objects.filter(phone="+33688888888").exists()
