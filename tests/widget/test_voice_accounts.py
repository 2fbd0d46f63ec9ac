"""The voice socket speaks and hears with the client's own speech accounts (saved on the Integrations page), else the
agency's default from the environment, else the offline twins. The cloud APIs are mocked with respx."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
import respx
from asgiref.sync import async_to_sync
from django_tenants.utils import tenant_context

from apps.clients.models import Plan
from apps.integrations.services import account_connect
from apps.widget.services import widget_origins_set
from tests.agents.conftest import make_agent
from tests.widget.test_voice import SHOP, SILENCE, send_audio, socket, speech, started, until

pytestmark = pytest.mark.django_db
SPEECH_URL = "https://api.openai.com/v1/audio/speech"
LISTEN_URL = "https://api.deepgram.com/v1/listen"
VOICE_PCM = (np.sin(np.arange(4800) / 5) * 8000).astype("<i2").tobytes()  # 0.2 s at 24 kHz


@pytest.fixture
def widget(cast):
    """Client A's widget on SHOP with an agent, on the Expert plan (cloud voices are an Expert feature)."""
    widget_origins_set(client=cast.client_a, origins=[SHOP])
    make_agent(cast.client_a)
    cast.client_a.plan = Plan.objects.get(code="expert")
    cast.client_a.save()
    return cast


def test_it_speaks_and_hears_with_the_clients_own_speech_accounts(widget, respx_mock: respx.Router):
    client = widget.client_a
    with tenant_context(client):
        account_connect(client=client, kind="tts", provider="openai", values={"api_key": "sk-client-voice"},
                        actor=widget.alice)
        account_connect(client=client, kind="stt", provider="deepgram", values={"api_key": "dg-client-ears"},
                        actor=widget.alice)
    spoken_route = respx_mock.post(SPEECH_URL).mock(return_value=httpx.Response(200, content=VOICE_PCM))
    heard_route = respx_mock.post(LISTEN_URL).mock(return_value=httpx.Response(200, json={
        "results": {"channels": [{"alternatives": [{"transcript": "when do you open", "confidence": 0.97}]}]}}))

    question = SILENCE[:9600] + speech("what are your opening hours") + SILENCE

    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en")
        await send_audio(comm, question)
        transcript = await until(comm, "transcript")
        said = await until(comm, "speech")
        audio = await comm.receive_output(10)
        await comm.disconnect()
        return ready, transcript, said, audio

    ready, transcript, said, audio = async_to_sync(scenario)()
    assert ready["recognition"] is True
    assert transcript["text"] == "when do you open"
    assert heard_route.calls.last.request.headers["Authorization"] == "Token dg-client-ears"
    assert heard_route.calls.last.request.url.params["language"] == "en"
    assert said["rate"] == 24000
    assert spoken_route.calls.last.request.headers["Authorization"] == "Bearer sk-client-voice"
    assert audio["bytes"] == VOICE_PCM


def test_without_an_account_the_agency_default_voice_speaks(widget, settings, respx_mock: respx.Router):
    settings.VOICE_TTS = "openai"
    settings.VOICE = {**settings.VOICE, "openai_api_key": "sk-agency"}
    spoken_route = respx_mock.post(SPEECH_URL).mock(return_value=httpx.Response(200, content=VOICE_PCM))

    async def scenario():
        comm = socket(widget.pk_a)
        await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        said = await until(comm, "speech")
        await comm.disconnect()
        return said

    said = async_to_sync(scenario)()
    assert said["rate"] == 24000
    assert spoken_route.calls.last.request.headers["Authorization"] == "Bearer sk-agency"


def test_without_an_account_or_a_default_the_offline_voice_speaks(widget, respx_mock: respx.Router):

    async def scenario():
        comm = socket(widget.pk_a)
        ready = await started(comm, language="en")
        await comm.send_json_to({"type": "text", "text": "what are your opening hours"})
        said = await until(comm, "speech")
        await comm.disconnect()
        return ready, said

    ready, said = async_to_sync(scenario)()
    assert ready["recognition"] is True  # the offline English recogniser
    assert said["rate"] == 22050  # espeak-ng
    assert not respx_mock.calls
