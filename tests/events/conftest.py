import pytest

from apps.events import transport
from tests.receiver import receiver  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def _dns_forgotten():
    """Each test resolves names afresh (the transport keeps answers per process for WEBHOOK_DNS_TTL_S)."""
    transport.dns_forget()
    yield
    transport.dns_forget()
