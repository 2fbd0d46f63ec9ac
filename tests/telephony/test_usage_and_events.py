"""A call's minutes are billed once in the ledger and its life is told as events (call.started, call.ended,
recording.ready); at the plan's cap the caller hears why, politely, and no call is opened."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django_tenants.utils import tenant_context

from apps.billing import services as billing
from apps.events.models import Event
from apps.telephony.simulator import CallerSimulator
from apps.usage.models import UsageCounter, UsageRecord
from apps.usage.services import month_start, usage_increment
from tests.telephony.conftest import calls_of


def _ledger(client):
    with tenant_context(client):
        return (list(UsageRecord.objects.filter(kind="call_minute").values_list("key", "quantity")),
                list(Event.objects.filter(type__in=["call.started", "call.ended", "recording.ready"])
                     .order_by("id").values_list("type", "data")))


async def test_a_calls_minutes_are_billed_once_and_its_events_recorded(phones):
    caller = CallerSimulator(to=phones.number_a)
    await caller.dial()
    await caller.relay_open()
    await caller.hangup(duration=125)  # the socket drops, then Twilio's `completed` status callback
    await caller.status("completed", 125)  # Twilio retries a callback: nothing is counted twice
    await caller.post("/telephony/twilio/recording", caller.params(
        RecordingSid="RE" + "2" * 32, RecordingStatus="completed", RecordingDuration="120",
        RecordingUrl="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "2" * 32))
    records, events = await sync_to_async(_ledger)(phones.client_a)
    assert records == [(f"call:{caller.call_sid}:3", 3)]
    assert [kind for kind, _data in events] == ["call.started", "call.ended", "recording.ready"]
    ended = events[1][1]
    assert ended["call_sid"] == caller.call_sid and ended["duration_s"] == 125 and ended["direction"] == "inbound"
    assert ended["from"] == caller.from_number and ended["to"] == phones.number_a
    other_records, other_events = await sync_to_async(_ledger)(phones.client_b)
    assert other_records == [] and other_events == []  # nothing of A's call in B's schema


def _use_up(client):
    with tenant_context(client):
        usage_increment(metric="voice_minutes", amount=client.plan.voice_minutes)
    billing.gate_rebuild_for(client)


def _reset(client):
    with tenant_context(client):
        UsageCounter.objects.filter(metric="voice_minutes", period=month_start()).delete()
    billing.gate_rebuild_for(client)


async def test_at_the_cap_the_caller_is_told_politely_and_no_call_is_opened(phones):
    await sync_to_async(_use_up)(phones.client_a)
    try:
        told = await CallerSimulator(to=phones.number_a).dial()
        assert told.hangs_up and told.says and "minutes" in told.says[0].lower(), told.xml
        assert await sync_to_async(calls_of)(phones.client_a) == []
        answered = await CallerSimulator(to=phones.number_b).dial()  # another client's minutes are its own
        assert answered.socket_kind == "relay"
    finally:
        await sync_to_async(_reset)(phones.client_a)


def test_the_timeline_is_named_in_the_members_language_with_real_instants():
    from datetime import datetime

    from apps.calls.models import Call
    from apps.calls.selectors import call_timeline

    call = Call(call_sid="CA" + "7" * 32, timeline=[
        {"event": "answered", "at": "2026-12-01T18:00:00+00:00", "detail": "relay"},
        {"event": "call.ended", "at": "2026-12-01T18:02:00+00:00", "detail": "event"},
        {"event": "something-new", "at": "not a date", "detail": ""}])
    from django.utils import translation

    with translation.override("fr"):
        rows = call_timeline(call=call)
        # the code named in French (not "answered"), an unknown code as it is, the internal marker not shown
        assert [row.label for row in rows] == [translation.gettext("Answered"), "something-new"]
        assert rows[0].label != "answered" and rows[0].label != "Answered"
    assert rows[0].at == datetime.fromisoformat("2026-12-01T18:00:00+00:00") and rows[1].at is None
