"""Booking notices: the confirmation at once, reminders the day before and an hour before, by the chosen channel, in
the person's language and the client's time zone (DST-correct); sent once even under concurrent sweeps; quiet hours;
WhatsApp's 24-hour rule with templates; replies that confirm, cancel or move."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.bookings import services as bookings
from apps.bookings.models import Appointment
from apps.integrations.models import Delivery
from apps.messaging.contacts import contact_inbound
from apps.messaging.inbound import Inbound, inbound_receive
from apps.messaging.models import Contact, MessagingSettings, Notice, WhatsAppTemplate
from apps.messaging.notices import day_before, notices_claim_and_queue, notices_plan, notices_sweep
from apps.schedule.models import DueWork
from tests.agents.conftest import make_agent
from tests.messaging.conftest import ALL_DAY, PERSON, in_schema, next_day_at

PARIS = ZoneInfo("Europe/Paris")


def book(agent, start, **extra):
    defaults = {"customer_name": "Amina", "customer_phone": PERSON, "notify_channel": "sms", "language": "fr"}
    defaults.update(extra)
    return bookings.appointment_book(agent=agent, start=start, **defaults)


@pytest.mark.django_db
def test_a_booking_queues_its_confirmation_and_plans_both_reminders(cast, agent_a,
                                                                    django_capture_on_commit_callbacks):
    start = next_day_at(cast.client_a, 10)
    with in_schema(cast.client_a):
        with django_capture_on_commit_callbacks(execute=True):
            appointment = book(agent_a, start)
        notices = {n.kind: n for n in Notice.objects.filter(appointment=appointment)}
        assert set(notices) == {"confirmed", "reminder_24h", "reminder_1h"}
        confirmed = notices["confirmed"]
        assert confirmed.status == "queued" and confirmed.delivery.status == "sent"  # the outbox twin
        body = confirmed.delivery.body
        assert appointment.reference in body and "10:00" in body and "Répondez OUI" in body, body
        local = start.astimezone(ZoneInfo(cast.client_a.timezone))
        assert notices["reminder_24h"].due_at == start - timedelta(days=1) or \
            notices["reminder_24h"].due_at.astimezone(local.tzinfo).hour == 10
        assert notices["reminder_1h"].due_at == start - timedelta(hours=1)
    due = DueWork.objects.get(client=cast.client_a, kind="notices")
    assert due.next_at == notices["reminder_24h"].due_at


@pytest.mark.django_db
def test_the_sweep_queues_a_reminder_once_when_it_is_due(cast, agent_a, django_capture_on_commit_callbacks):
    start = next_day_at(cast.client_a, 11)
    with in_schema(cast.client_a):
        appointment = book(agent_a, start)
        reminder = Notice.objects.get(appointment=appointment, kind="reminder_24h")
    assert notices_sweep(now=reminder.due_at - timedelta(minutes=1))["queued"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert notices_sweep(now=reminder.due_at + timedelta(minutes=1))["queued"] == 1
    assert notices_sweep(now=reminder.due_at + timedelta(minutes=2))["queued"] == 0
    with in_schema(cast.client_a):
        reminder.refresh_from_db()
        assert reminder.status == "queued" and reminder.delivery.status == "sent"
        assert "demain" in reminder.delivery.body
        assert Delivery.objects.filter(purpose="notice:reminder_24h").count() == 1
    assert DueWork.objects.get(client=cast.client_a, kind="notices").next_at == start - timedelta(hours=1)


@pytest.mark.django_db
def test_cancelling_sends_the_cancellation_and_drops_the_reminders(cast, agent_a):
    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 12))
        bookings.appointment_cancel(reference=appointment.reference)
        bookings.appointment_cancel(reference=appointment.reference)  # twice: one message
        kinds = dict(Notice.objects.filter(appointment=appointment).values_list("kind", "status"))
        assert kinds == {"confirmed": "queued", "cancelled": "queued", "reminder_24h": "skipped",
                         "reminder_1h": "skipped"}
        assert Delivery.objects.filter(purpose="notice:cancelled").count() == 1
    assert notices_sweep(now=appointment.start - timedelta(minutes=30))["queued"] == 0


def test_day_before_keeps_the_wall_clock_time_across_dst():
    spring = datetime(2027, 3, 28, 10, 0, tzinfo=PARIS)  # the clocks went forward at 02:00 that morning
    assert day_before(spring, PARIS) == datetime(2027, 3, 27, 10, 0, tzinfo=PARIS)
    utc = ZoneInfo("UTC")  # (an aware subtraction within one zone compares wall clocks: go through UTC)
    assert spring.astimezone(utc) - day_before(spring, PARIS).astimezone(utc) == timedelta(hours=23)
    autumn = datetime(2027, 10, 31, 10, 0, tzinfo=PARIS)
    assert autumn.astimezone(utc) - day_before(autumn, PARIS).astimezone(utc) == timedelta(hours=25)
    gap = datetime(2027, 3, 29, 2, 30, tzinfo=PARIS)  # 02:30 on the 28th did not exist: 03:30 instead
    assert day_before(gap, PARIS).astimezone(PARIS).strftime("%d %H:%M") == "28 03:30"


@pytest.mark.django_db
def test_a_reminder_across_the_dst_change_says_the_local_time(cast, agent_a, django_capture_on_commit_callbacks):
    with in_schema(cast.client_a):
        start = datetime(2027, 3, 28, 10, 0, tzinfo=PARIS)
        appointment = Appointment.objects.create(agent=agent_a, start=start, end=start + timedelta(minutes=30),
                                                 blocked_until=start + timedelta(minutes=30), customer_name="Léa",
                                                 customer_phone=PERSON, notify_channel="sms", language="fr",
                                                 reference="RDV-DST001")
        notices_plan(appointment=appointment, event="confirmed")
        reminder = Notice.objects.get(appointment=appointment, kind="reminder_24h")
        assert reminder.due_at == datetime(2027, 3, 27, 9, 0, tzinfo=ZoneInfo("UTC"))
        with django_capture_on_commit_callbacks(execute=True):
            count, following = notices_claim_and_queue(now=reminder.due_at + timedelta(seconds=1))
        assert count == 1 and following == start - timedelta(hours=1)
        reminder.refresh_from_db()
        assert "28 mars 2027" in reminder.delivery.body and "10:00" in reminder.delivery.body


@pytest.mark.django_db
def test_quiet_hours_postpone_a_reminder_or_skip_it(cast, agent_a):
    with in_schema(cast.client_a):
        MessagingSettings.objects.create(pk=1)  # 21:00 → 08:00 in the client's zone
        zone = ZoneInfo(cast.client_a.timezone)
        early = book(agent_a, next_day_at(cast.client_a, 7, days=3).replace(minute=30))
        reminder = Notice.objects.get(appointment=early, kind="reminder_24h")
        count, _next = notices_claim_and_queue(now=reminder.due_at + timedelta(minutes=1))
        reminder.refresh_from_db()
        assert count == 0 and reminder.status == "scheduled"
        assert reminder.due_at.astimezone(zone).strftime("%H:%M") == "08:00"
        count, _next = notices_claim_and_queue(now=reminder.due_at + timedelta(minutes=1))
        reminder.refresh_from_db()
        assert count == 1 and reminder.status == "queued"
        hour_before = Notice.objects.get(appointment=early, kind="reminder_1h")  # 06:30, quiet until 08:00
        notices_claim_and_queue(now=hour_before.due_at + timedelta(minutes=1))
        hour_before.refresh_from_db()
        assert (hour_before.status, hour_before.reason) == ("skipped", "quiet hours")


@pytest.mark.django_db
def test_whatsapp_outside_the_window_sends_the_template_and_inside_free_text(cast, agent_a, whatsapp_plans):
    with in_schema(cast.client_a):
        WhatsAppTemplate.objects.create(name="rdv_ok", purpose="confirmed", language="fr",
                                        content_sid="HX" + "b" * 32, variables=["name", "date", "time"])
        first = book(agent_a, next_day_at(cast.client_a, 9), notify_channel="whatsapp")
        delivery = Notice.objects.get(appointment=first, kind="confirmed").delivery
        assert delivery.content_sid == "HX" + "b" * 32
        assert delivery.content_variables["1"] == "Amina" and delivery.content_variables["3"] == "09:00"
        # no template for a reminder: skipped, with why
        reminder = Notice.objects.get(appointment=first, kind="reminder_24h")
        notices_claim_and_queue(now=reminder.due_at + timedelta(seconds=1))
        reminder.refresh_from_db()
        assert (reminder.status, reminder.reason) == ("skipped", "no_template")
        contact_inbound(channel="whatsapp", address="whatsapp:" + PERSON)  # the person wrote: window open
        second = book(agent_a, next_day_at(cast.client_a, 15), notify_channel="whatsapp")
        delivery = Notice.objects.get(appointment=second, kind="confirmed").delivery
        assert delivery.content_sid == "" and "15:00" in delivery.body


@pytest.mark.django_db
def test_an_email_notice_is_in_the_persons_language(cast, agent_a):
    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 16), customer_email="ana@example.com",
                           notify_channel="email", language="es")
        delivery = Notice.objects.get(appointment=appointment, kind="confirmed").delivery
        assert delivery.channel == "email" and delivery.to == "ana@example.com"
        assert delivery.subject.startswith("Su cita") and delivery.body.startswith("Hola Amina")


def _reply(text):
    return inbound_receive(message=Inbound(channel="sms", from_=PERSON, to="+15550109001", body=text))


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["annuler", "ANNULER !", "cancel", "cancelar", "إلغاء", "نلغي"])
def test_a_reply_cancels_the_appointment(cast, agent_a, word):
    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 10))
        assert _reply(word).action == "cancelled"
        appointment.refresh_from_db()
        assert appointment.status == "cancelled"
        assert Notice.objects.get(appointment=appointment, kind="cancelled").delivery is not None


@pytest.mark.django_db
def test_a_reply_confirms_or_moves_the_appointment(cast, agent_a):
    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 10))
        outcome = _reply("Oui")
        appointment.refresh_from_db()
        assert outcome.action == "confirmed" and appointment.confirmed_at is not None and "10:00" in outcome.reply
        offered = _reply("déplacer")
        assert offered.action == "offered" and offered.reply.count("\n") == 3 and "1) " in offered.reply
        assert _reply("٢").action == "moved"  # Arabic-Indic digits work too
        appointment.refresh_from_db()
        moved = Appointment.objects.get(status="booked", customer_phone=PERSON)
        assert appointment.status == "cancelled" and moved.pk != appointment.pk
        assert Notice.objects.get(appointment=moved, kind="changed").status == "queued"
        assert set(Notice.objects.filter(appointment=appointment, kind__startswith="reminder")
                   .values_list("status", flat=True)) == {"skipped"}
        assert _reply("bonjour") .action == "agent"  # anything else goes to the agent


@pytest.mark.django_db
def test_cancel_on_a_us_number_that_twilio_takes_as_an_opt_out_also_cancels_the_appointment(cast, agent_a):
    """Twilio's Advanced Opt-Out treats CANCEL as STOP on US numbers (OptOutType=STOP): the person is opted out
    and the appointment they meant to cancel is cancelled too (its notice is then refused: opted out)."""
    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 11))
        outcome = inbound_receive(message=Inbound(channel="sms", from_=PERSON, to="+15550109001", body="CANCEL",
                                                  opt_out_type="STOP"))
        appointment.refresh_from_db()
        assert outcome.action == "opted_out" and appointment.status == "cancelled"
        assert Contact.objects.get(channel="sms", address=PERSON).opted_out
        assert Notice.objects.get(appointment=appointment, kind="cancelled").status != "queued"


@pytest.mark.django_db
def test_a_reply_acts_on_the_notice_received_last_even_one_planned_weeks_ago(cast, agent_a):
    """Two bookings; the first one's reminder (planned when it was booked, weeks ago) is the last message the
    person got: "annuler" cancels that appointment, not the one confirmed in between."""
    with in_schema(cast.client_a):
        first = book(agent_a, next_day_at(cast.client_a, 10))
        second = book(agent_a, next_day_at(cast.client_a, 15))
        reminder = Notice.objects.get(appointment=first, kind="reminder_24h")
        Notice.objects.filter(pk=reminder.pk).update(created=timezone.now() - timedelta(days=20))
        count, _next = notices_claim_and_queue(now=reminder.due_at + timedelta(seconds=1))
        assert count == 1
        assert _reply("annuler").action == "cancelled"
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.status, second.status) == ("cancelled", "booked")


@pytest.mark.django_db
def test_a_reply_without_a_notice_goes_to_the_agent(cast, agent_a):
    with in_schema(cast.client_a):
        assert _reply("annuler").action == "agent"


# --- sent once, under concurrency (committed rows, real connections) ----------------------------------------------


@pytest.fixture
def committed(session_cast, django_db_blocker):
    with django_db_blocker.unblock():
        agents = {client.pk: make_agent(client, name="Sweep", business_hours=ALL_DAY, appointment_minutes=30,
                                        buffer_minutes=0) for client in (session_cast.client_a, session_cast.client_b)}
        yield agents
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                Notice.objects.filter(appointment__agent=agents[client.pk]).delete()
                Delivery.objects.filter(purpose__startswith="notice:").delete()
                Appointment.objects.filter(agent=agents[client.pk]).delete()
                MessagingSettings.objects.all().delete()
                Contact.objects.all().delete()
                agents[client.pk].delete()
        DueWork.objects.all().delete()


def test_two_concurrent_sweeps_queue_each_reminder_once(session_cast, committed, django_db_blocker):
    with django_db_blocker.unblock():
        # 13:00 in the clients' zone (both Paris): the sweep at 11:00 is outside quiet hours whenever the test runs
        base = next_day_at(session_cast.client_a, 13, days=3)
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                # No quiet hours: what is tested is the claim, at any time of day the suite runs (the default
                # 21:00-08:00 held every reminder back when the suite ran late in the evening).
                MessagingSettings.objects.create(pk=1, quiet_start=time(0, 0), quiet_end=time(0, 0))
                for n in range(12):
                    book(committed[client.pk], base.replace(minute=0, second=0, microsecond=0)
                         + timedelta(hours=n), customer_phone=f"+3361234{n:04d}")
        later = base - timedelta(hours=2)  # every day-before reminder is due, no hour-before one yet
        barrier = threading.Barrier(4)
        results: list[object] = []

        def sweep(kind: str) -> None:
            try:
                barrier.wait()
                if kind == "sweep":
                    results.append(notices_sweep(now=later)["queued"])
                else:  # a worker that skips the due index and claims the notices directly
                    with tenant_context(session_cast.client_a):
                        from django.db import transaction

                        with transaction.atomic():
                            results.append(notices_claim_and_queue(now=later)[0])
            except Exception as error:  # reported below
                results.append(repr(error))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=sweep, args=(kind,)) for kind in ("sweep", "sweep", "claim", "claim")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(isinstance(r, int) for r in results), results
        for client in (session_cast.client_a, session_cast.client_b):
            with tenant_context(client):
                reminders = Notice.objects.filter(appointment__agent=committed[client.pk], kind="reminder_24h")
                assert reminders.filter(status="queued").count() == 12
                sent = list(Delivery.objects.filter(purpose="notice:reminder_24h").values_list("to", flat=True))
                assert len(sent) == len(set(sent)) == 12
        assert sum(results) == 24


@pytest.mark.django_db
def test_the_sweep_command_advances_demo_time(cast, agent_a, django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with in_schema(cast.client_a):
        appointment = book(agent_a, next_day_at(cast.client_a, 14))
    out = StringIO()
    ahead = int((appointment.start - timezone.now()).total_seconds() // 3600) - 23  # past the day-before time
    with django_capture_on_commit_callbacks(execute=True):
        call_command("reminders_sweep", "--ahead", f"{ahead}h", stdout=out)
    assert "1 notice(s) queued" in out.getvalue()
    with in_schema(cast.client_a):
        assert Notice.objects.get(appointment=appointment, kind="reminder_24h").status == "queued"
    for bad in (["--now", "yesterday"], ["--ahead", "-3h"], ["--now", "2026-13-45T99:00"]):
        with pytest.raises(CommandError):
            call_command("reminders_sweep", *bad, stdout=StringIO())
