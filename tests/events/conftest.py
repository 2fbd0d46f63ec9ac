from tests.receiver import receiver  # noqa: F401 - the fixture
