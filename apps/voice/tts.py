"""Moved to apps/integrations/tts/ (docs/integrations.md); this name stays while tests/widget/test_voice.py
imports it."""

from apps.integrations.tts.base import MAX_TEXT, Speech, TextToSpeech
from apps.integrations.tts.elevenlabs import ElevenLabsSpeaker
from apps.integrations.tts.espeak import EspeakSpeaker
from apps.integrations.tts.openai import OpenAISpeaker

__all__ = ["MAX_TEXT", "ElevenLabsSpeaker", "EspeakSpeaker", "OpenAISpeaker", "Speech", "TextToSpeech"]
