"""Which recogniser and which voice serve a client — a thin face on apps.integrations.resolver, kept for the
voice consumer (apps/widget/voice.py) and the widget's config.

These run on the event loop, so by default they never read the database (`accounts=()`: the agency default
from the environment, or the offline twin — the behaviour before the integrations package). A caller on the
database thread passes `accounts=accounts_enabled(client=…)` to let the client's own connected account apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.agents.models import LANGUAGE_CODES
from apps.integrations.resolver import builtin_recognizer, provider_for
from apps.integrations.stt.base import SpeechToText
from apps.integrations.tts.base import TextToSpeech
from apps.integrations.tts.espeak import EspeakSpeaker


def recognizer_for(language: str, *, client: Any = None, accounts: Iterable[Any] = ()) -> SpeechToText | None:
    """The recogniser for `language`, or None when none here understands it (the widget then listens itself)."""
    chosen = provider_for("stt", client=client, accounts=accounts).provider
    for candidate in (chosen, builtin_recognizer()):
        if candidate.supports(language):
            return candidate
    return None


def recognised_languages() -> list[str]:
    return [code for code in LANGUAGE_CODES if recognizer_for(code) is not None]


def speaker_for(client: Any, *, accounts: Iterable[Any] = ()) -> TextToSpeech:
    return provider_for("tts", client=client, accounts=accounts).provider


def builtin_speaker() -> TextToSpeech:
    return EspeakSpeaker()
