"""The scheduling side of callbacks: the due index wakes the sweep at the callback's time and the plugged-in call
task gets each due callback once (it claims them); without one they wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.crm import services as crm
from apps.crm.models import Callback
from apps.schedule.callbacks import callbacks_sweep
from apps.schedule.models import DueWork
from tests.messaging.conftest import in_schema

pytestmark = pytest.mark.django_db
PLACED: list[int] = []


def fake_placer(*, callback_ids: list[int]) -> list[int]:
    """A call task's stand-in: claims each callback the way a real one must (pending → done, in one UPDATE)."""
    taken = [pk for pk in callback_ids if Callback.objects.filter(pk=pk, status="pending").update(status="done")]
    PLACED.extend(taken)
    return taken


def test_a_callback_is_handed_to_the_call_task_once_at_its_time(cast):
    PLACED.clear()
    when = timezone.now() + timedelta(hours=2)
    with in_schema(cast.client_a):
        callback = crm.callback_schedule(phone="+33612345678", due_at=when, reason="devis cuisine")
    assert DueWork.objects.get(client=cast.client_a, kind="callbacks").next_at == when
    with override_settings(CALLBACK_PLACER="tests.messaging.test_callbacks.fake_placer"):
        assert callbacks_sweep(now=when - timedelta(minutes=1)) == {"placed": 0, "waiting": 0}
        assert callbacks_sweep(now=when)["placed"] == 1
        assert callbacks_sweep(now=when + timedelta(minutes=1))["placed"] == 0
    assert PLACED == [callback.pk]
    assert DueWork.objects.get(client=cast.client_a, kind="callbacks").next_at is None


def test_without_a_call_task_callbacks_wait(cast):
    when = timezone.now() + timedelta(minutes=5)
    with in_schema(cast.client_b):
        crm.callback_schedule(phone="+212600000001", due_at=when)
    assert callbacks_sweep(now=when) == {"placed": 0, "waiting": 1}
    with in_schema(cast.client_b):
        assert Callback.objects.get().status == "pending"
