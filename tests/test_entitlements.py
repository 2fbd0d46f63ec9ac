import pytest
from django_tenants.utils import tenant_context

from apps.clients.entitlements import client_may, client_require, quota_require, quota_status
from apps.clients.models import Plan
from apps.clients.plans import CATALOGUE, FEATURES
from apps.core.errors import FeatureNotInPlan, QuotaExceeded
from apps.usage.services import usage_increment

pytestmark = pytest.mark.django_db


def test_it_ships_five_plans_with_the_seed_rate_limits(cast):
    rpm = dict(Plan.objects.values_list("code", "requests_per_minute"))
    assert rpm == {"starter": 20, "pro": 60, "ecommerce": 60, "expert": 120, "telephony": 120}
    assert len(FEATURES) == 23
    assert all(set(row["features"]) <= set(FEATURES) for row in CATALOGUE)


def test_it_answers_may_this_client_use_a_feature(cast):
    assert client_may(cast.client_a, "booking")  # pro
    assert not client_may(cast.client_b, "booking")  # starter
    assert not client_may(cast.client_a, "voice_telephony")
    with pytest.raises(FeatureNotInPlan):
        client_require(cast.client_b, "webhooks")
    with pytest.raises(KeyError):
        client_may(cast.client_a, "teleportation")


def test_it_counts_what_is_left_of_a_monthly_quota(cast):
    already = quota_status(cast.client_a, "monthly_conversations").used
    with tenant_context(cast.client_a):
        usage_increment(metric="conversations", amount=1990 - already)
    status = quota_status(cast.client_a, "monthly_conversations")
    assert (status.limit, status.used, status.left, status.percent) == (2000, 1990, 10, 100)
    assert quota_status(cast.client_b, "monthly_conversations").used < 1990  # B's counters are B's
    quota_require(cast.client_a, "monthly_conversations", adding=10)
    with pytest.raises(QuotaExceeded) as error:
        quota_require(cast.client_a, "monthly_conversations", adding=11)
    assert error.value.status == 429 and "Retry-After" in error.value.headers


def test_it_counts_caller_counted_quotas(cast):
    assert quota_status(cast.client_b, "allowed_origins", used=2).left == 0
    with pytest.raises(ValueError):
        quota_status(cast.client_b, "allowed_origins")
