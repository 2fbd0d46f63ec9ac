"""CRM services: callbacks stay within a time a person could be called back in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.errors import InvalidInput
from apps.crm import services
from apps.crm.models import Callback

pytestmark = pytest.mark.django_db


def test_it_refuses_a_callback_on_the_last_day_python_can_hold(cast):
    with tenant_context(cast.client_a):
        before = Callback.objects.count()
        with pytest.raises(InvalidInput):
            services.callback_schedule(phone="+212661234567", due_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC))
        assert Callback.objects.count() == before


def test_it_plans_a_callback_tomorrow(cast):
    with tenant_context(cast.client_a):
        due = timezone.now() + timedelta(days=1)
        assert services.callback_schedule(phone="+212661234567", due_at=due).due_at == due
