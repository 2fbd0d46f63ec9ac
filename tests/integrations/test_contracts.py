"""Every registered provider of every kind keeps its kind's contract; the twins work offline; each network
provider is exercised against mocked endpoints shaped like the real APIs (respx for HTTP, a fake SMTP
connection for mail). A provider added to the registry without its fixture here fails the last test."""

from __future__ import annotations

import asyncio
import inspect
import smtplib
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from apps.core.errors import ProviderError
from apps.integrations import registry
from apps.integrations.base import KINDS, Field
from apps.integrations.billing.base import MeterEvent
from apps.integrations.llm.base import Done, ProviderConfig, TextDelta
from apps.integrations.outbound import OutboundMessage, SendResult
from apps.integrations.resolver import provider_for
from apps.integrations.telephony.base import twilio_signature

KEY = "sk-contract-0123456789"
ALL = [(kind, name) for kind in KINDS for name in registry.provider_names(kind)]


def protocol_members(protocol: Any) -> dict[str, Any]:
    """The names a Protocol declares (attributes and methods), with the method objects."""
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {name for name, value in vars(protocol).items() if not name.startswith("_") and callable(value)}
    return {name: vars(protocol).get(name) for name in names}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def dummy_settings(cls: Any) -> dict[str, str]:
    return {field.name: f"value-{field.name}" if field.name != "port" else "2525" for field in cls.fields}


@pytest.mark.parametrize(("kind", "name"), ALL, ids=[f"{k}:{n}" for k, n in ALL])
def test_it_satisfies_the_interface_of_its_kind(kind: str, name: str) -> None:
    cls = registry.provider_class(kind, name)
    members = protocol_members(registry.interface(kind))
    assert "name" in members
    for member, declared in members.items():
        assert hasattr(cls, member), f"{cls.__name__} lacks {member}"
        if callable(declared):
            wanted = [p for p in inspect.signature(declared).parameters if p != "self"]
            got = [p for p in inspect.signature(getattr(cls, member)).parameters if p != "self"]
            assert got == wanted, f"{cls.__name__}.{member}{got} != {wanted}"
            assert inspect.iscoroutinefunction(getattr(cls, member)) == inspect.iscoroutinefunction(declared) or \
                inspect.isasyncgenfunction(getattr(cls, member)), f"{cls.__name__}.{member}: sync/async differs"


@pytest.mark.parametrize(("kind", "name"), [p for p in ALL if p != ("llm", "builtin")],
                         ids=[f"{k}:{n}" for k, n in ALL if (k, n) != ("llm", "builtin")])
def test_it_is_built_from_its_settings_with_its_registry_name(kind: str, name: str) -> None:
    cls = registry.provider_class(kind, name)
    assert all(isinstance(field, Field) for field in cls.fields) and str(cls.label)
    provider = cls.from_settings(dummy_settings(cls))
    assert provider.name == name
    if any(field.required for field in cls.fields):
        with pytest.raises(ProviderError) as error:
            cls.from_settings({})
        assert error.value.permanent


def test_it_has_one_offline_twin_per_kind_that_needs_nothing() -> None:
    for kind in KINDS:
        cls = registry.provider_class(kind, registry.TWINS[kind])
        assert cls.name == registry.TWINS[kind]
        if kind != "llm":  # the built-in engine is built per conversation (tests/agents/test_engine.py)
            assert cls.offline and not [field for field in cls.fields if field.required]
            assert provider_for(kind, client=None, accounts=()).is_twin or kind == "email"


@pytest.mark.parametrize("kind", ["sms", "whatsapp", "email"])
def test_the_outbox_twins_keep_messages_and_send_nothing(kind: str) -> None:
    twin = registry.provider_class(kind, "outbox").from_settings({})
    result = twin.send(OutboundMessage(to="+33612345678", body="RDV demain 9h", reference="7"))
    assert isinstance(result, SendResult) and result.provider_message_id.startswith("outbox-")
    assert type(twin).sent[-1].body == "RDV demain 9h"


def test_the_telephony_twin_records_calls_and_checks_signatures_like_twilio() -> None:
    twin = registry.provider_class("telephony", "memory").from_settings({"auth_token": "tok"})
    call = twin.call_place(to="+33612345678", from_number="", answer_url="https://x.test/answer")
    assert call.provider_call_id.startswith("CA") and type(twin).calls[call.provider_call_id]["status"] == "queued"
    twin.call_hangup(provider_call_id=call.provider_call_id)
    assert type(twin).calls[call.provider_call_id]["status"] == "completed"
    params = {"CallSid": call.provider_call_id, "From": "+33612345678", "To": "+10000000000"}
    # The same algorithm as Twilio's own SDK (its docs' example request).
    from twilio.request_validator import RequestValidator

    example = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030",
               "To": "+18005551212"}
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio_signature("12345", url, example) == RequestValidator("12345").compute_signature(url, example)
    good = twilio_signature("tok", "https://x.test/hook", params)
    assert twin.signature_valid(url="https://x.test/hook", params=params, signature=good)
    assert not twin.signature_valid(url="https://x.test/hook", params={**params, "To": "+1999"}, signature=good)
    with pytest.raises(ProviderError):
        twin.call_place(to=" ", from_number="", answer_url="https://x.test/answer")


def test_the_billing_twin_records_usage_once_per_idempotency_key() -> None:
    twin = registry.provider_class("billing", "memory").from_settings({})
    first = twin.usage_report(customer="cus_1", metric="voice_minutes", quantity=3, idempotency_key="k-1")
    again = twin.usage_report(customer="cus_1", metric="voice_minutes", quantity=3, idempotency_key="k-1")
    assert first == again and type(twin).records["k-1"]["quantity"] == 3
    assert twin.charge(customer="cus_1", amount_cents=990, currency="EUR", description="Pro",
                       idempotency_key="k-2").provider_id != first.provider_id
    with pytest.raises(ProviderError):
        twin.charge(customer="cus_1", amount_cents=0, currency="EUR", description="", idempotency_key="k-3")


def test_the_speech_twins_speak_and_hear_offline() -> None:
    from apps.integrations.stt.pocketsphinx import PocketSphinxRecognizer

    speaker = provider_for("tts", client=None, accounts=()).provider
    speech = run(speaker.synthesize("can i book an appointment", language="en"))
    assert speech.provider == "builtin" and len(speech.pcm) > speech.rate  # over half a second of PCM16
    recognizer = PocketSphinxRecognizer.from_settings({})
    assert recognizer is PocketSphinxRecognizer.from_settings({})  # one per process (30 MB model)
    silence = b"\0" * (speech.rate // 5 * 2)
    heard = run(recognizer.transcribe(silence + speech.pcm + silence, rate=speech.rate, language="en"))
    assert heard.text == "can i book an appointment"


# --- network providers: the real APIs' shapes, mocked at the HTTP (or SMTP) seam -------------------------------

OPENAI_SSE = (b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
              b'{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n'
              b'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},'
              b'"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')
ANTHROPIC_SSE = (b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","usage":'
                 b'{"input_tokens":5,"output_tokens":1}}}\n\n'
                 b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":'
                 b'{"type":"text","text":""}}\n\n'
                 b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":'
                 b'{"type":"text_delta","text":"Hi"}}\n\n'
                 b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
                 b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
                 b'"usage":{"output_tokens":2}}\n\n'
                 b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
PCM = b"\x01\x00" * 800


async def _llm(provider: Any) -> Any:
    config = ProviderConfig(model="m", api_key=KEY)
    return [event async for event in provider.stream(config=config, messages=[{"role": "user", "content": "Hi"}],
                                                     tools=[])]


@dataclass
class Network:
    url: str  # the endpoint mocked with respx (empty for SMTP)
    ok: httpx.Response
    call: Callable[[Any], Any]
    check: Callable[[Any, Any], None]  # (result, the mocked request or SMTP session)


def _bearer(request: Any) -> None:
    assert request.headers["Authorization"] == f"Bearer {KEY}"


NETWORK: dict[tuple[str, str], Network] = {
    ("llm", "openai_compatible"): Network(
        "https://api.openai.com/v1/chat/completions", httpx.Response(200, content=OPENAI_SSE,
                                                                      headers={"content-type": "text/event-stream"}),
        lambda p: run(_llm(p)),
        lambda result, request: (_bearer(request), None)[1] or (
            [e for e in result if isinstance(e, TextDelta)] == [TextDelta("Hi")] and isinstance(result[-1], Done)
        ) or pytest.fail(str(result))),
    ("llm", "anthropic"): Network(
        "https://api.anthropic.com/v1/messages", httpx.Response(200, content=ANTHROPIC_SSE,
                                                                 headers={"content-type": "text/event-stream"}),
        lambda p: run(_llm(p)),
        lambda result, request: (request.headers["x-api-key"] == KEY
                                 and result[-1] == Done("stop", {"input_tokens": 5, "output_tokens": 2})
                                 ) or pytest.fail(str(result))),
    ("stt", "deepgram"): Network(
        "https://api.deepgram.com/v1/listen",
        httpx.Response(200, json={"metadata": {"request_id": "r1"}, "results": {"channels": [{"alternatives": [
            {"transcript": "bonjour", "confidence": 0.98, "words": []}]}]}}),
        lambda p: run(p.transcribe(PCM, rate=16000, language="fr")),
        lambda result, request: (result.text == "bonjour" and request.headers["Authorization"] == f"Token {KEY}"
                                 and request.url.params["language"] == "fr") or pytest.fail(str(result))),
    ("stt", "openai"): Network(
        "https://api.openai.com/v1/audio/transcriptions", httpx.Response(200, json={"text": "hola"}),
        lambda p: run(p.transcribe(PCM, rate=16000, language="es")),
        lambda result, request: (_bearer(request), None)[1] or (result.text == "hola") or pytest.fail(str(result))),
    ("tts", "openai"): Network(
        "https://api.openai.com/v1/audio/speech", httpx.Response(200, content=PCM),
        lambda p: run(p.synthesize("Bonjour", language="fr")),
        lambda result, request: (_bearer(request), None)[1] or (result.pcm == PCM and result.rate == 24000)
        or pytest.fail(str(result))),
    ("tts", "elevenlabs"): Network(
        "https://api.elevenlabs.io/v1/text-to-speech/value-voice", httpx.Response(200, content=PCM),
        lambda p: run(p.synthesize("مرحبا", language="ary")),
        lambda result, request: (request.headers["xi-api-key"] == KEY and result.pcm == PCM
                                 and b'"language_code":"ar"' in request.content.replace(b" ", b""))
        or pytest.fail(str(result))),
    ("telephony", "twilio"): Network(
        "https://api.twilio.com/2010-04-01/Accounts/value-subaccount_sid/Calls.json",
        httpx.Response(201, json={"sid": "CA" + "a" * 32, "status": "queued", "to": "+33600000000",
                                  "from": "+15550100000", "direction": "outbound-api",
                                  "account_sid": "value-account_sid"}),
        lambda p: p.call_place(to="+33600000000", from_number="+15550100000", answer_url="https://x.test/v"),
        lambda result, request: (result.provider_call_id == "CA" + "a" * 32
                                 and request.headers["Authorization"].startswith("Basic ")
                                 and b"To=%2B33600000000" in request.content) or pytest.fail(str(result))),
    ("billing", "stripe"): Network(  # docs.stripe.com/api/billing/meter-event/create
        "https://api.stripe.com/v1/billing/meter_events",
        httpx.Response(200, json={"object": "billing.meter_event", "created": 1704824589, "event_name":
                                  "vocalia_overage", "identifier": "turn:7", "livemode": False,
                                  "payload": {"value": "20000", "stripe_customer_id": "cus_NciAYcXfLnqBoz"},
                                  "timestamp": 1704824500}),
        lambda p: p.meter_events_send([MeterEvent(identifier="turn:7", customer="cus_NciAYcXfLnqBoz", value=20000,
                                                  timestamp=1704824500)]),
        lambda result, request: (result == ["turn:7"] and request.headers["Authorization"] == f"Bearer {KEY}"
                                 and b"identifier=turn%3A7" in request.content
                                 and b"payload[value]=20000" in request.content
                                 and request.headers["Idempotency-Key"] == "meter-turn:7")
        or pytest.fail(str(result))),
}


def _network_provider(kind: str, name: str) -> Any:
    cls = registry.provider_class(kind, name)
    values = {**dummy_settings(cls), "api_key": KEY}
    values.pop("base_url", None)
    values.pop("model", None)
    return cls.from_settings(values)


@pytest.mark.parametrize(("kind", "name"), list(NETWORK), ids=[f"{k}:{n}" for k, n in NETWORK])
def test_a_network_provider_works_against_the_apis_shape(kind: str, name: str, respx_mock: respx.Router) -> None:
    network = NETWORK[(kind, name)]
    route = respx_mock.post(network.url).mock(return_value=network.ok)
    result = network.call(_network_provider(kind, name))
    network.check(result, route.calls.last.request)


@pytest.mark.parametrize(("kind", "name"), list(NETWORK), ids=[f"{k}:{n}" for k, n in NETWORK])
@pytest.mark.parametrize(("status", "permanent"), [(401, True), (503, False), (429, False)])
def test_a_network_provider_fails_with_a_provider_error(kind: str, name: str, status: int, permanent: bool,
                                                        respx_mock: respx.Router) -> None:
    network = NETWORK[(kind, name)]
    respx_mock.post(network.url).respond(status, json={"error": {"message": f"nope {KEY}", "type": "x"}})
    with pytest.raises(ProviderError) as error:
        network.call(_network_provider(kind, name))
    assert error.value.permanent is permanent and KEY not in str(error.value.message)


class FakeSMTP:
    """Stands in for smtplib.SMTP at the socket seam: records the session, fails as told."""

    sessions: typing.ClassVar[list[FakeSMTP]] = []
    fail_with: typing.ClassVar[list[Exception]] = []

    def __init__(self, host: str, port: int, local_hostname: str | None = None, timeout: float | None = None,
                 **kwargs: Any) -> None:
        self.host, self.port, self.timeout, self.log = host, port, timeout, []
        FakeSMTP.sessions.append(self)
        if FakeSMTP.fail_with:
            raise FakeSMTP.fail_with.pop(0)

    def ehlo(self) -> None: ...

    def starttls(self, **kwargs: Any) -> None:
        self.log.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.log.append(("login", user, password))
        if password == "wrong":
            raise smtplib.SMTPAuthenticationError(535, b"5.7.8 Username and Password not accepted")

    def sendmail(self, from_addr: str, to_addrs: list[str], msg: bytes, **kwargs: Any) -> dict[str, Any]:
        self.log.append(("sendmail", from_addr, to_addrs, msg))
        return {}

    def quit(self) -> None: ...

    def close(self) -> None: ...


SMTP = {"host": "smtp.example.com", "port": "587", "username": "hello@example.com", "password": "s3cret-pass",
        "security": "starttls", "from_email": "hello@example.com"}


def test_the_smtp_provider_logs_in_with_starttls_and_sends(fake_smtp: type[FakeSMTP]) -> None:
    sender = registry.provider_class("email", "smtp").from_settings(SMTP)
    result = sender.send(OutboundMessage(to="x@example.com", subject="RDV", body="Demain 9h"))
    session = fake_smtp.sessions[-1]
    assert (session.host, session.port, session.timeout) == ("smtp.example.com", 587, 10.0)
    assert session.log[:2] == ["starttls", ("login", "hello@example.com", "s3cret-pass")]
    _, sender_address, recipients, raw = session.log[2]
    assert sender_address == "hello@example.com" and recipients == ["x@example.com"]
    assert f"Message-ID: {result.provider_message_id}".encode() in raw and b"Subject: RDV" in raw


def test_the_smtp_provider_tells_refused_credentials_from_a_dropped_connection(fake_smtp: type[FakeSMTP]) -> None:
    with pytest.raises(ProviderError) as refused:
        registry.provider_class("email", "smtp").from_settings({**SMTP, "password": "wrong"}).send(
            OutboundMessage(to="x@example.com", body="x"))
    assert refused.value.permanent and "wrong" not in refused.value.message
    fake_smtp.fail_with = [ConnectionRefusedError(111, "Connection refused")]
    with pytest.raises(ProviderError) as dropped:
        registry.provider_class("email", "smtp").from_settings(SMTP).send(OutboundMessage(to="x@example.com",
                                                                                           body="x"))
    assert not dropped.value.permanent and "s3cret-pass" not in dropped.value.message


def test_the_agency_mail_goes_through_djangos_backend(mailoutbox: list[Any]) -> None:
    result = registry.provider_class("email", "agency").from_settings({}).send(
        OutboundMessage(to="x@example.com", subject="Hi", body="Hello"))
    assert mailoutbox[0].to == ["x@example.com"] and mailoutbox[0].extra_headers["Message-ID"] == \
        result.provider_message_id


def test_every_network_provider_has_its_contract_fixture_here() -> None:
    network = {(kind, name) for kind, name in ALL if kind != "llm" or name != "builtin"
               if not registry.provider_class(kind, name).offline}
    covered = set(NETWORK) | {("email", "smtp"), ("email", "agency"),
                              ("sms", "twilio"), ("whatsapp", "twilio")}  # test_twilio_messaging.py (requests)
    assert network == covered, f"add a fixture for {sorted(network - covered)}"
