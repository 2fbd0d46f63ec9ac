"""TwiML, always through the twilio library's VoiceResponse (never by string).

Each builder returns the XML text; apps.telephony.answering decides which one a call gets.
"""

from __future__ import annotations

from django.urls import reverse
from twilio.twiml.voice_response import VoiceResponse

from apps.telephony import languages
from apps.telephony.webhooks import public_url, public_ws_url


def url(name: str, query: str = "") -> str:
    return public_url(reverse(name) + (f"?{query}" if query else ""))


def say_hangup(text: str, language: str) -> str:
    """A polite spoken message, then the end of the call (never an error tone)."""
    response = VoiceResponse()
    voice, code = languages.say(language)
    response.say(text, voice=voice, language=code)
    response.hangup()
    return str(response)


def busy_offer(text: str, language: str, *, goodbye: str) -> str:
    """Over the cap: say so, offer a callback (press 1 or say yes), else goodbye."""
    response = VoiceResponse()
    voice, code = languages.say(language)
    gather = response.gather(input="dtmf speech", num_digits=1, timeout=6, method="POST",
                             action=url("telephony-callback", f"lang={language}"),
                             language=languages.GATHER.get(language, "en-US"),
                             speech_timeout="auto")
    gather.say(text, voice=voice, language=code)
    response.say(goodbye, voice=voice, language=code)
    response.hangup()
    return str(response)


def _preamble(response: VoiceResponse, *, language: str, notice: str, record: bool) -> None:
    voice, code = languages.say(language)
    if notice:
        response.say(notice, voice=voice, language=code)
    if record:
        start = response.start()
        start.recording(recording_status_callback=url("telephony-recording"),
                        recording_status_callback_method="POST", recording_status_callback_event="completed")


def socket_path(kind: str, e164: str) -> str:
    """The socket's path names the called number (digits only): the handshake finds its route before any
    message, and the number's account checks the handshake's signature."""
    return f"/ws/twilio/{kind}/{e164.lstrip('+')}/"


def relay(*, e164: str, token: str, language: str, languages_offered: list[str], greeting: str,
          voices: dict[str, str], notice: str = "", record: bool = False) -> str:
    """<Connect action><ConversationRelay url=wss://… language… welcomeGreeting…><Language/>…<Parameter/>."""
    response = VoiceResponse()
    _preamble(response, language=language, notice=notice, record=record)
    main = languages.relay_language(language)
    connect = response.connect(action=url("telephony-relay-action"), method="POST")
    relay = connect.conversation_relay(
        url=public_ws_url(socket_path("relay", e164)), language=main.code, tts_provider=main.tts_provider,
        voice=voices.get(language) or main.voice, transcription_provider=main.transcription_provider,
        speech_model=main.speech_model, welcome_greeting=greeting or None, interruptible="any",
        dtmf_detection=True)
    for code in dict.fromkeys([language, *languages_offered]):
        row = languages.RELAY.get(code)
        if row is not None:
            relay.language(code=row.code, tts_provider=row.tts_provider, voice=voices.get(code) or row.voice,
                           transcription_provider=row.transcription_provider, speech_model=row.speech_model)
    relay.parameter(name="token", value=token)
    return str(response)


def media(*, e164: str, token: str, language: str, notice: str = "", record: bool = False) -> str:
    """<Connect action><Stream url=wss://…><Parameter name=token/></Stream></Connect> (no query string)."""
    response = VoiceResponse()
    _preamble(response, language=language, notice=notice, record=record)
    connect = response.connect(action=url("telephony-relay-action"), method="POST")
    stream = connect.stream(url=public_ws_url(socket_path("media", e164)))
    stream.parameter(name="token", value=token)
    stream.parameter(name="language", value=language)
    return str(response)


def gather(*, text: str, language: str, notice: str = "", record: bool = False, hangup_after: bool = False) -> str:
    """Say `text` inside a <Gather input="speech">; its transcript is posted to the gather URL."""
    response = VoiceResponse()
    _preamble(response, language=language, notice=notice, record=record)
    voice, code = languages.say(language)
    if hangup_after:
        response.say(text, voice=voice, language=code)
        response.hangup()
        return str(response)
    turn = response.gather(input="speech dtmf", action=url("telephony-gather"), method="POST",
                           language=languages.GATHER.get(language, "en-US"), speech_timeout="auto", timeout=6,
                           action_on_empty_result=True)
    turn.say(text, voice=voice, language=code)
    response.redirect(url("telephony-gather"), method="POST")
    return str(response)


def dial_cold(*, to: str, caller_id: str, text: str, language: str) -> str:
    """Say we put the caller through, then <Dial action=…>: busy / no answer come back to the agent."""
    response = VoiceResponse()
    voice, code = languages.say(language)
    response.say(text, voice=voice, language=code)
    dial = response.dial(action=url("telephony-dial-action"), method="POST", timeout=20, caller_id=caller_id or None)
    dial.number(to)
    return str(response)


def conference_wait(*, room: str, text: str, language: str) -> str:
    """Warm transfer, the caller's side: wait in the conference until the person, briefed, joins."""
    response = VoiceResponse()
    voice, code = languages.say(language)
    response.say(text, voice=voice, language=code)
    dial = response.dial(action=url("telephony-dial-action"), method="POST")
    dial.conference(room, start_conference_on_enter=False, end_conference_on_exit=True, beep=False)
    return str(response)


def whisper(*, room: str, summary: str, language: str) -> str:
    """Warm transfer, the person's side: hear the summary, then join (and start) the conference."""
    response = VoiceResponse()
    voice, code = languages.say(language)
    response.say(summary, voice=voice, language=code)
    dial = response.dial()
    dial.conference(room, start_conference_on_enter=True, end_conference_on_exit=True, beep=False)
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())
