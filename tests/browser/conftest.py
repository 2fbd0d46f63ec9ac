"""A real daphne server on the test database, and Debian's Chromium driven by Playwright.

The server sees only committed rows: the session cast. Screenshots land in
tests/artifacts/ (kept by CI as test artifacts, ignored by git).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    from urllib.parse import urlparse, urlunparse

    parts = urlparse(settings.DATABASE_URL)
    return urlunparse(parts._replace(path="/" + connection.settings_dict["NAME"]))


@pytest.fixture(scope="session")
def live_server_url(session_cast: object) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="vocalia.settings_test", DATABASE_URL=_test_database_url(),
               PUBLIC_URL=f"http://localhost:{port}",
               WEBHOOKS_ALLOW_PRIVATE_URLS="1", WEBHOOKS_ALLOW_HTTP="1")  # test-only: a webhook receiver on loopback
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "daphne.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                               "vocalia.asgi:application"], cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("daphne exited; see tests/artifacts/daphne.log") from None
            time.sleep(0.1)
    yield f"localhost:{port}"
    server.terminate()
    server.wait(timeout=10)


VOICE_QUESTION = "what are your opening hours"


def _fake_microphone() -> Path:
    """A WAV for Chromium's fake microphone: silence, an espeak-ng question, silence (played once)."""
    from apps.voice.audio import wav_read, wav_write

    spoken = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout", VOICE_QUESTION], check=True,
                            capture_output=True).stdout
    pcm, rate = wav_read(spoken)
    path = ARTIFACTS / "fake-microphone.wav"
    path.write_bytes(wav_write(b"\0" * rate * 2 + pcm + b"\0" * rate * 6, rate))
    return path


@pytest.fixture(scope="module")
def browser(live_server_url: str) -> Iterator[object]:
    """Playwright's sync API runs an event loop in this thread; Django's async guard is lifted only meanwhile.

    The microphone is fake: Chromium plays tests/artifacts/fake-microphone.wav (see _fake_microphone).
    """
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (make system-deps).")
    from playwright.sync_api import sync_playwright

    microphone = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={_fake_microphone()}%noloop",
                  "--autoplay-policy=no-user-gesture-required"]

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                  args=CHROMIUM_ARGS + microphone)
            yield instance
            instance.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module", autouse=True)
def _forget_what_the_server_committed(session_cast: object, django_db_blocker: object) -> Iterator[None]:
    """The live server commits what the browser does; remove it so other runs start clean."""
    yield
    from django_tenants.utils import tenant_context

    from apps.agents.models import Agent
    from apps.billing.models import BillingAccount, Invoice
    from apps.bookings.models import Appointment
    from apps.calls.models import Call
    from apps.conversations.models import Conversation
    from apps.core.models import OutboxDue
    from apps.crm.models import Callback, Lead, Ticket
    from apps.events.models import Event, WebhookEndpoint
    from apps.integrations.models import Delivery
    from apps.knowledge.models import Document, Word
    from apps.usage.models import UsageCounter, UsageRecord, Wallet, WalletEntry
    from apps.widget.models import WidgetRejection, WidgetSettings, WidgetSighting

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for client in (session_cast.client_a, session_cast.client_b):  # type: ignore[attr-defined]
            for public_model in (WidgetSighting, WidgetRejection, WidgetSettings, BillingAccount, Invoice):
                public_model.objects.filter(client=client).delete()
            with tenant_context(client):
                for model in (Appointment, Lead, Ticket, Callback, Delivery, Call, Conversation, Document, Word,
                              Agent, UsageCounter, UsageRecord, Wallet, WalletEntry, Event, WebhookEndpoint):
                    model.objects.all().delete()
        OutboxDue.objects.all().delete()


from tests.receiver import receiver  # noqa: E402,F401 - the webhook receiver fixture
