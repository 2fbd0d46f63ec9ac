"""Each billing test starts from no billing state for the cast's clients, whatever a browser test's live server
committed before (it commits what the browser does; its module cleanup may not have run if it was killed)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context


@pytest.fixture(autouse=True)
def _no_billing_state(request, cast):
    if request.node.get_closest_marker("django_db") is None:
        return
    from apps.billing.models import BillingAccount, Invoice
    from apps.usage.models import UsageCounter, UsageRecord, Wallet, WalletEntry

    for client in (cast.client_a, cast.client_b):
        BillingAccount.objects.filter(client=client).delete()
        Invoice.objects.filter(client=client).delete()
        with tenant_context(client):
            for model in (UsageRecord, UsageCounter, Wallet, WalletEntry):
                model.objects.all().delete()
