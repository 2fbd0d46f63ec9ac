"""Connected accounts: encrypted at rest, a blind index for looked-up values, owner-only and audited writes,
a start-up canary; and the one resolver: plan → the client's own account → the agency default → the twin."""

from __future__ import annotations

import cryptography.fernet
import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test import override_settings
from django_tenants.utils import tenant_context
from encrypted_model_fields import fields as encrypted_fields

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.core.errors import FeatureNotInPlan, InvalidInput, PermissionDenied
from apps.integrations import services
from apps.integrations.crypto import CredentialsUnreadable, blind_index, canary_problem
from apps.integrations.models import ConnectedAccount
from apps.integrations.resolver import accounts_enabled, llm_for, provider_for
from apps.voice import providers as voice

SECRET = "dg-secret-0123456789"


@pytest.fixture
def other_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """FIELD_ENCRYPTION_KEY replaced by another one, as after a botched deploy."""
    monkeypatch.setattr(encrypted_fields, "CRYPTER", cryptography.fernet.MultiFernet(
        [cryptography.fernet.Fernet(cryptography.fernet.Fernet.generate_key())]))


@pytest.mark.django_db
def test_it_stores_credentials_encrypted_and_reads_them_back(cast):
    with tenant_context(cast.client_a):
        account = services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                           values={"api_key": SECRET, "model": "nova-3"}, actor=cast.alice)
        with connection.cursor() as cursor:
            cursor.execute("SELECT credentials_encrypted FROM integrations_connectedaccount WHERE id = %s",
                           [account.pk])
            stored = cursor.fetchone()[0]
        assert SECRET not in stored and "nova-3" not in stored and stored.startswith("gAAAA")
        assert ConnectedAccount.objects.get(pk=account.pk).credentials == {"api_key": SECRET, "model": "nova-3"}


@pytest.mark.django_db
def test_it_finds_an_account_by_a_looked_up_value_through_its_blind_index(cast):
    with tenant_context(cast.client_a), override_settings(INTEGRATIONS_DEFAULTS={}):
        # The telephony twin needs no account (a Twilio provider will): the blind index is the model's.
        account = ConnectedAccount.objects.create(kind="telephony", provider="memory",
                                                  credentials_encrypted='{"phone_number": "+33612345678"}',
                                                  lookup_hash=blind_index("+33612345678"))
        assert ConnectedAccount.objects.filter(credentials_encrypted="+33612345678").count() == 0
        assert ConnectedAccount.objects.get(lookup_hash=blind_index(" +33 6 12 34 56 78 ")) == account
        assert len(account.lookup_hash) == 64 and "3361" not in account.lookup_hash and blind_index("  ") == ""


@pytest.mark.django_db
def test_a_wrong_key_is_caught_not_mistaken_for_credentials(cast, other_key):
    assert canary_problem() is not None
    assert [error.id for error in run_checks(tags=["security"]) if error.id.startswith("integrations")] == \
        ["integrations.E001"]


@pytest.mark.django_db
def test_an_account_that_does_not_decrypt_falls_back_to_the_agency_default(cast, monkeypatch):
    with tenant_context(cast.client_a):
        services.account_connect(client=cast.client_a, kind="email", provider="smtp", actor=cast.alice,
                                 values={"host": "smtp.example.com", "from_email": "a@example.com"})
        monkeypatch.setattr(encrypted_fields, "CRYPTER", cryptography.fernet.MultiFernet(
            [cryptography.fernet.Fernet(cryptography.fernet.Fernet.generate_key())]))
        account = ConnectedAccount.objects.get(kind="email")
        with pytest.raises(CredentialsUnreadable):
            account.credentials  # noqa: B018
        assert provider_for("email", client=cast.client_a).source == "default"


def test_the_canary_decrypts_with_the_key_in_force(db):
    assert canary_problem() is None
    assert not [error for error in run_checks(tags=["security"]) if error.id.startswith("integrations")]


@pytest.mark.django_db
def test_only_an_owner_connects_and_the_audit_names_fields_never_values(cast):
    with tenant_context(cast.client_a):
        with pytest.raises(PermissionDenied):
            services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                     values={"api_key": SECRET}, actor=cast.bob)
        with pytest.raises(PermissionDenied):
            services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                     values={"api_key": SECRET}, actor=cast.carol)
        assert not ConnectedAccount.objects.exists()
        services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                 values={"api_key": SECRET}, actor=cast.alice)
        event = AuditEvent.objects.get(action="integration.connected")
        assert (event.actor_email, event.target, event.data) == (
            "alice@a.test", "stt:deepgram", {"kind": "stt", "provider": "deepgram", "changed": ["api_key"]})
        assert SECRET not in str(event.data)


@pytest.mark.django_db
def test_a_blank_secret_keeps_the_saved_one_and_one_account_serves_a_kind(cast):
    with tenant_context(cast.client_a):
        services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                 values={"api_key": SECRET, "model": "nova-2"}, actor=cast.alice)
        services.account_connect(client=cast.client_a, kind="stt", provider="deepgram",
                                 values={"api_key": "", "model": "nova-3"}, actor=cast.alice)
        assert ConnectedAccount.objects.get(provider="deepgram").credentials == {"api_key": SECRET,
                                                                                 "model": "nova-3"}
        services.account_connect(client=cast.client_a, kind="stt", provider="openai", values={"api_key": "o"},
                                 actor=cast.alice)
        assert [(a.provider, a.enabled) for a in ConnectedAccount.objects.order_by("provider")] == [
            ("deepgram", False), ("openai", True)]
        with pytest.raises(InvalidInput):
            services.account_connect(client=cast.client_a, kind="stt", provider="builtin", values={},
                                     actor=cast.alice)
        with pytest.raises(InvalidInput):
            services.account_connect(client=cast.client_a, kind="email", provider="smtp", values={"host": "x"},
                                     actor=cast.alice)  # no sender address
        with pytest.raises(FeatureNotInPlan):  # alpha's Pro plan has no cloud voices
            services.account_connect(client=cast.client_a, kind="tts", provider="openai",
                                     values={"api_key": "o"}, actor=cast.alice)


@pytest.mark.django_db
def test_the_resolver_goes_plan_then_account_then_default_then_twin(cast):
    voice_defaults = {"openai_api_key": "agency-key", "openai_base_url": "https://api.openai.com/v1",
                      "openai_stt_model": "m", "openai_tts_model": "t", "openai_tts_voice": "alloy",
                      "deepgram_api_key": "", "deepgram_model": "nova-3", "elevenlabs_api_key": "",
                      "elevenlabs_voice_id": "v"}
    with tenant_context(cast.client_a), override_settings(VOICE_TTS="openai", VOICE_STT="openai",
                                                          VOICE=voice_defaults):
        assert provider_for("tts", client=cast.client_a).source == "twin"  # the plan says built-in
        cast.client_a.plan.features = [*cast.client_a.plan.features, "cloud_voice"]
        chosen = provider_for("tts", client=cast.client_a)
        assert (chosen.source, chosen.name, chosen.provider.api_key) == ("default", "openai", "agency-key")
        services.account_connect(client=cast.client_a, kind="tts", provider="elevenlabs",
                                 values={"api_key": SECRET, "voice": "voice-9"}, actor=cast.alice)
        chosen = provider_for("tts", client=cast.client_a)
        assert (chosen.source, chosen.name, chosen.provider.voice) == ("account", "elevenlabs", "voice-9")
        # The voice consumer's face: no database on the event loop unless handed the accounts.
        assert voice.speaker_for(cast.client_a).name == "openai"
        assert voice.speaker_for(cast.client_a, accounts=accounts_enabled(client=cast.client_a)).name == \
            "elevenlabs"
        assert provider_for("stt", client=cast.client_a).source == "default"
    with override_settings(VOICE_TTS="builtin", VOICE_STT="builtin"):
        assert provider_for("stt", client=None, accounts=()).is_twin
        assert provider_for("sms", client=cast.client_b).is_twin


@pytest.mark.django_db
def test_the_resolver_reads_the_clients_own_accounts_only(cast):
    with tenant_context(cast.client_a):
        services.account_connect(client=cast.client_a, kind="email", provider="smtp", actor=cast.alice,
                                 values={"host": "smtp.a.test", "from_email": "hello@a.test"})
    with tenant_context(cast.client_b):
        assert provider_for("email", client=cast.client_b).source == "default"
    assert provider_for("email", client=cast.client_a).provider.host == "smtp.a.test"  # enters A's schema itself


@pytest.mark.django_db
@override_settings(LLM_DEFAULTS={"openai_compatible": {"api_key": "", "base_url": "", "model": "agency-model"},
                                 "anthropic": {"api_key": "agency-anthropic", "base_url": "", "model": "claude"}})
def test_an_agents_model_takes_its_own_key_then_the_clients_then_the_agencys(cast):
    with tenant_context(cast.client_a):
        agent = Agent(name="x", provider="openai_compatible")
        assert llm_for(client=cast.client_a, agent=agent) is None  # no key anywhere: the built-in engine
        services.account_connect(client=cast.client_a, kind="llm", provider="openai_compatible",
                                 values={"api_key": "client-key"}, actor=cast.alice)
        provider, config = llm_for(client=cast.client_a, agent=agent)
        assert (provider.name, config.api_key, config.model) == ("openai_compatible", "client-key", "agency-model")
        agent.api_key, agent.model = "agent-key", "gpt-x"
        assert llm_for(client=cast.client_a, agent=agent)[1].api_key == "agent-key"
        assert llm_for(client=cast.client_a, agent=Agent(name="y", provider="anthropic"))[1].api_key == \
            "agency-anthropic"
        assert llm_for(client=cast.client_a, agent=Agent(name="z", provider="builtin")) is None
