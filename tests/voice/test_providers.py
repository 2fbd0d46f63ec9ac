"""Speech providers: the offline twins for real, the cloud ones against respx with the real APIs' shapes."""

from __future__ import annotations

import json
import os
import re

import httpx
import pytest
import respx
from asgiref.sync import async_to_sync
from django.test import override_settings

from apps.core.errors import ProviderError
from apps.integrations.stt.deepgram import DeepgramRecognizer
from apps.integrations.stt.openai import OpenAIRecognizer
from apps.integrations.stt.pocketsphinx import GRAMMARS, PocketSphinxRecognizer
from apps.integrations.tts.elevenlabs import ElevenLabsSpeaker
from apps.integrations.tts.espeak import EspeakSpeaker
from apps.integrations.tts.openai import OpenAISpeaker
from apps.voice import providers
from apps.voice.audio import SAMPLE_RATE, EndpointDetector, resample, rms, wav_read, wav_write

PCM = (b"\x10\x00\xf0\xff" * 4000)  # 0.5 s of a quiet square wave at 16 kHz
KEY = "sk-secret-voice-key"


def run(coroutine_function, *args, **kwargs):
    return async_to_sync(coroutine_function)(*args, **kwargs)


@pytest.mark.parametrize("language", ["fr", "en", "es", "ar", "ary"])
def test_espeak_speaks_every_language(language):
    speech = run(EspeakSpeaker().synthesize, {"fr": "Bonjour", "en": "Hello", "es": "Hola", "ar": "مرحبا",
                                              "ary": "السلام"}[language], language=language)
    assert speech.rate == 22050 and len(speech.pcm) > 4000 and rms(speech.pcm) > 500


def test_a_cancelled_synthesis_kills_its_espeak_process(monkeypatch):
    import asyncio

    started = []
    spawn = asyncio.create_subprocess_exec

    async def spy(*args, **kwargs):
        process = await spawn(*args, **kwargs)
        started.append(process)
        return process

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)

    async def scenario():
        task = asyncio.ensure_future(EspeakSpeaker().synthesize("un mot " * 400, language="fr"))
        while not started:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):  # the child watcher reaps it within a few loop turns
            if started[0].returncode is not None:
                break
            await asyncio.sleep(0.01)
        return started[0].returncode

    returncode = async_to_sync(scenario)()
    assert returncode is not None and returncode < 0  # killed by a signal, and reaped
    with pytest.raises(ProcessLookupError):
        os.kill(started[0].pid, 0)


def test_the_offline_recogniser_hears_espeak_english_and_refuses_other_languages():
    spoken = run(EspeakSpeaker().synthesize, "where are you located", language="en")
    pcm = b"\0" * 6400 + resample(spoken.pcm, spoken.rate, SAMPLE_RATE) + b"\0" * 6400
    recogniser = PocketSphinxRecognizer()
    assert run(recogniser.transcribe, pcm, rate=SAMPLE_RATE, language="en").text == "where are you located"
    with pytest.raises(ProviderError, match="English only"):
        run(recogniser.transcribe, pcm, rate=SAMPLE_RATE, language="fr")


def test_every_word_of_the_grammar_is_in_the_pronouncing_dictionary():
    from pocketsphinx import get_model_path

    with open(os.path.join(get_model_path(), "en-us", "cmudict-en-us.dict")) as dictionary:
        known = {line.split()[0] for line in dictionary}
    grammar = re.sub(r"/\*.*?\*/", "", (GRAMMARS / "visitor-en.jsgf").read_text(), flags=re.S)
    body = re.sub(r"<[a-z]+>", " ", grammar.split("grammar visitor;")[1])
    words = set(re.findall(r"[a-z']+", body))
    assert len(words) > 80 and words <= known, words - known


def test_the_endpoint_detector_finds_one_utterance_in_speech_between_silences():
    spoken = run(EspeakSpeaker().synthesize, "hello, what are your opening hours", language="en")
    speech = resample(spoken.pcm, spoken.rate, SAMPLE_RATE)
    detector = EndpointDetector()
    events = []
    stream = b"\0" * SAMPLE_RATE + speech + b"\0" * SAMPLE_RATE
    for offset in range(0, len(stream), 640):
        events.extend(detector.feed(stream[offset:offset + 640]))
    assert [event.kind for event in events] == ["start", "end"]
    assert abs(len(events[1].audio) - len(speech)) < SAMPLE_RATE * 2 * 0.9  # speech plus under 0.9 s of edges


def test_wav_round_trip_and_resampling():
    pcm, rate = wav_read(wav_write(PCM, SAMPLE_RATE))
    assert (pcm, rate) == (PCM, SAMPLE_RATE)
    assert len(resample(PCM, 16000, 8000)) == len(PCM) // 2


@respx.mock
def test_deepgram_sends_the_wav_and_reads_the_transcript():
    route = respx.post("https://api.deepgram.com/v1/listen").mock(return_value=httpx.Response(200, json={
        "metadata": {"request_id": "r1", "duration": 0.5, "channels": 1},
        "results": {"channels": [{"alternatives": [
            {"transcript": "Quels sont vos horaires ?", "confidence": 0.97,
             "words": [{"word": "quels", "start": 0.1, "end": 0.3, "confidence": 0.98}]}]}]}}))
    transcript = run(DeepgramRecognizer(api_key=KEY).transcribe, PCM, rate=SAMPLE_RATE, language="fr")
    assert (transcript.text, transcript.confidence, transcript.provider) == ("Quels sont vos horaires ?", 0.97,
                                                                              "deepgram")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Token {KEY}" and request.headers["Content-Type"] == "audio/wav"
    assert request.url.params["language"] == "fr" and request.url.params["model"] == "nova-3"
    assert wav_read(request.content) == (PCM, SAMPLE_RATE)


@respx.mock
def test_deepgram_errors_are_clear_and_never_show_the_key():
    respx.post("https://api.deepgram.com/v1/listen").mock(return_value=httpx.Response(
        401, json={"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials.", "message": f"bad key {KEY}"}))
    with pytest.raises(ProviderError) as error:
        run(DeepgramRecognizer(api_key=KEY).transcribe, PCM, rate=SAMPLE_RATE, language="en")
    assert error.value.permanent and "401" in error.value.message and KEY not in error.value.message


@respx.mock
def test_openai_transcription_posts_multipart_and_maps_darija_to_arabic():
    route = respx.post("https://api.openai.com/v1/audio/transcriptions").mock(
        return_value=httpx.Response(200, json={"text": "بغيت ناخد موعد"}))
    transcript = run(OpenAIRecognizer(api_key=KEY).transcribe, PCM, rate=SAMPLE_RATE, language="ary")
    assert transcript.text == "بغيت ناخد موعد"
    request = route.calls.last.request
    body = request.content
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert b'name="language"\r\n\r\nar\r\n' in body and b'name="model"\r\n\r\ngpt-4o-mini-transcribe' in body
    assert b'filename="speech.wav"' in body


@respx.mock
def test_openai_transcription_timeouts_are_transient():
    respx.post("https://api.openai.com/v1/audio/transcriptions").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderError) as error:
        run(OpenAIRecognizer(api_key=KEY).transcribe, PCM, rate=SAMPLE_RATE, language="en")
    assert not error.value.permanent and "ReadTimeout" in error.value.message


@respx.mock
def test_openai_speech_asks_for_raw_pcm():
    route = respx.post("https://api.openai.com/v1/audio/speech").mock(
        return_value=httpx.Response(200, content=PCM, headers={"Content-Type": "audio/pcm"}))
    speech = run(OpenAISpeaker(api_key=KEY).synthesize, "Bonjour", language="fr")
    assert (speech.pcm, speech.rate, speech.provider) == (PCM, 24000, "openai")
    assert json.loads(route.calls.last.request.content) == {"model": "gpt-4o-mini-tts", "input": "Bonjour",
                                                            "voice": "alloy", "response_format": "pcm"}


@respx.mock
def test_elevenlabs_speech_asks_for_16_khz_pcm_in_the_language():
    route = respx.post("https://api.elevenlabs.io/v1/text-to-speech/voice-1").mock(
        return_value=httpx.Response(200, content=PCM, headers={"Content-Type": "audio/pcm"}))
    speech = run(ElevenLabsSpeaker(api_key=KEY, voice="voice-1").synthesize, "مرحبا", language="ary")
    request = route.calls.last.request
    assert speech.rate == 16000 and request.url.params["output_format"] == "pcm_16000"
    assert request.headers["xi-api-key"] == KEY
    assert json.loads(request.content)["language_code"] == "ar"


@respx.mock
def test_elevenlabs_quota_errors_are_transient():
    respx.post("https://api.elevenlabs.io/v1/text-to-speech/voice-1").mock(return_value=httpx.Response(
        429, json={"detail": {"status": "too_many_concurrent_requests", "message": "Too many requests"}}))
    with pytest.raises(ProviderError) as error:
        run(ElevenLabsSpeaker(api_key=KEY, voice="voice-1").synthesize, "hi", language="en")
    assert not error.value.permanent and "429" in error.value.message


VOICE = {"openai_api_key": KEY, "openai_base_url": "https://api.openai.com/v1", "openai_stt_model": "m",
         "openai_tts_model": "t", "openai_tts_voice": "alloy", "deepgram_api_key": KEY, "deepgram_model": "nova-3",
         "elevenlabs_api_key": "", "elevenlabs_voice_id": "v"}


@pytest.mark.django_db
def test_the_registry_picks_cloud_providers_when_configured_and_allowed(cast):
    with override_settings(VOICE_STT="builtin", VOICE_TTS="builtin"):
        assert providers.recognised_languages() == ["en"]
        assert providers.recognizer_for("fr") is None
        assert providers.speaker_for(cast.client_a).name == "builtin"
    with override_settings(VOICE_STT="deepgram", VOICE_TTS="openai", VOICE=VOICE):
        assert providers.recognised_languages() == ["fr", "en", "es", "ar", "ary"]
        assert providers.recognizer_for("en").name == "deepgram"
        # Cloud voices are the `cloud_voice` feature: alpha's Pro plan does not have it.
        assert providers.speaker_for(cast.client_a).name == "builtin"
        plan = cast.client_a.plan
        features = plan.features
        plan.features = [*features, "cloud_voice"]
        try:
            assert providers.speaker_for(cast.client_a).name == "openai"
        finally:
            plan.features = features
