import pytest

from apps.events import transport
from tests.receiver import receiver  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def _dns_forgotten():
    """Each test resolves names afresh and opens its own connections (the transport keeps both per process)."""
    transport.dns_forget()
    yield
    transport.dns_forget()
