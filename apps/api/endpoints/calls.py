"""Phone calls (read-only: Twilio's webhooks write them): the list with filters, one call with its transcript,
timeline, latency per turn, outcome, summary and recording metadata, and the recording's audio — fetched by our
server with the number's account credentials and streamed to the key holder. Twilio's media URL is never given
out (it needs the account's credentials)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import COMMON_STATUSES, LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.fields import MAX_ID
from apps.api.pagination import query_choice, query_int, query_text
from apps.calls import selectors
from apps.calls.models import Call, Mode
from apps.calls.playback import recording_audio
from apps.conversations.models import Message
from apps.core.errors import InvalidInput

MAX_NUMBER_DIGITS = 15  # E.164


class CallTimelineEntrySerializer(serializers.Serializer):
    event = serializers.CharField(help_text="answered, ringing, in-progress, completed, busy, no-answer, failed, "
                                            "recording, language, handover, dtmf, interrupt, callback, ended…")
    at = serializers.DateTimeField(allow_null=True)
    detail = serializers.CharField()


class CallTurnSerializer(serializers.Serializer):
    recognition_ms = serializers.IntegerField(allow_null=True, help_text="Speech recognition (ours: Media Streams "
                                                                         "only; null when Twilio recognises).")
    engine_ms = serializers.IntegerField(allow_null=True, help_text="The agent's engine: prompt in → first token.")
    speech_ms = serializers.IntegerField(allow_null=True, help_text="Speech synthesis to the first audio (ours).")


class CallRecordingSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Twilio's RecordingStatus: completed, absent (too short or silent)…")
    duration_s = serializers.IntegerField(allow_null=True)
    audio_url = serializers.CharField(allow_null=True, help_text="`GET` it with your key for the WAV audio "
                                                                 "(null when there is nothing to play).")


class CallTranscriptLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.ChoiceField(choices=Message.Role.values)
    text = serializers.CharField()
    complete = serializers.BooleanField(help_text="False: the caller interrupted, the line holds what was heard.")
    created = serializers.DateTimeField()


class PhoneCallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    agent = serializers.IntegerField(source="agent_id", allow_null=True)
    conversation = serializers.IntegerField(source="conversation_id", allow_null=True,
                                            help_text="The transcript's conversation (GET /conversations/{id}/"
                                                      "messages).")
    direction = serializers.ChoiceField(choices=Call.Direction.choices)
    from_number = serializers.CharField()
    to_number = serializers.CharField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    status = serializers.ChoiceField(choices=Call.Status.choices)
    started = serializers.DateTimeField(help_text="The call's creation time (created_after/before).")
    answered_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_s = serializers.IntegerField(allow_null=True)
    languages = serializers.ListField(child=serializers.CharField())
    outcome = serializers.CharField(help_text="What the call achieved (booked, lead, handover, …), or empty.")
    summary = serializers.CharField()
    end_reason = serializers.CharField()
    handover = serializers.DictField(child=serializers.CharField(), help_text='{"mode", "to", "status", "result"} '
                                                                              "when the call was transferred.")
    recording = serializers.SerializerMethodField()

    def get_object(self, _row: Any) -> str:
        return "call"

    @extend_schema_field(CallRecordingSerializer(allow_null=True))
    def get_recording(self, call: Call) -> dict[str, Any] | None:
        if not call.recording_sid:
            return None
        playable = call.recording_status not in selectors.RECORDING_UNPLAYABLE
        return {"status": call.recording_status, "duration_s": call.recording_duration_s,
                "audio_url": f"/api/v1/calls/{call.pk}/recording" if playable else None}


class PhoneCallDetailSerializer(PhoneCallSerializer):
    timeline = serializers.SerializerMethodField()
    latency = serializers.SerializerMethodField()
    transcript = serializers.SerializerMethodField()

    @extend_schema_field(CallTimelineEntrySerializer(many=True))
    def get_timeline(self, call: Call) -> list[dict[str, Any]]:
        return CallTimelineEntrySerializer(selectors.call_timeline_entries(call=call), many=True).data

    @extend_schema_field(CallTurnSerializer(many=True, help_text="Each turn's latency split, in order."))
    def get_latency(self, call: Call) -> list[dict[str, Any]]:
        turns = [turn for turn in call.turns or [] if isinstance(turn, dict)]
        return CallTurnSerializer([{key: _ms(turn.get(key)) for key in ("recognition_ms", "engine_ms", "speech_ms")}
                               for turn in turns], many=True).data

    @extend_schema_field(CallTranscriptLineSerializer(many=True, help_text="The conversation's lines, oldest first "
                                                                       "(tool calls left out)."))
    def get_transcript(self, call: Call) -> list[dict[str, Any]]:
        return CallTranscriptLineSerializer(selectors.call_transcript(call=call), many=True).data


def _ms(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


TURN = {"recognition_ms": None, "engine_ms": 14, "speech_ms": None}
CALL = {"id": 41, "object": "call", "agent": 1, "conversation": 310, "direction": "inbound",
        "from_number": "+33612345678", "to_number": "+33159000000", "mode": "relay", "status": "completed",
        "started": "2026-12-01T09:28:00Z", "answered_at": "2026-12-01T09:28:01Z", "ended_at": "2026-12-01T09:31:10Z",
        "duration_s": 190, "languages": ["fr"], "outcome": "booked",
        "summary": "Marie a pris rendez-vous jeudi à 10 h pour un détartrage.", "end_reason": "caller-hangup",
        "handover": {}, "recording": {"status": "completed", "duration_s": 186,
                                      "audio_url": "/api/v1/calls/41/recording"}}
CALL_DETAIL = {**CALL, "timeline": [
    {"event": "answered", "at": "2026-12-01T09:28:01Z", "detail": "relay"},
    {"event": "recording", "at": "2026-12-01T09:31:12Z", "detail": "completed"},
    {"event": "completed", "at": "2026-12-01T09:31:10Z", "detail": "190"}],
    "latency": [TURN, {**TURN, "engine_ms": 11}],
    "transcript": [{"id": 9001, "role": "assistant", "text": "Bonjour, cabinet Atlas, que puis-je faire pour vous ?",
                    "complete": True, "created": "2026-12-01T09:28:02Z"},
                   {"id": 9002, "role": "user", "text": "Je voudrais un rendez-vous jeudi matin.", "complete": True,
                    "created": "2026-12-01T09:28:07Z"}]}


def _number_fragment(params: Any) -> str:
    """`number`: digits of a caller's or a called number (a leading + allowed), 3 to 15 of them."""
    value = query_text(params, "number")
    if not value:
        return ""
    digits = value.removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 3 <= len(digits) <= MAX_NUMBER_DIGITS):
        raise InvalidInput(_("The parameter “number” must be 3 to 15 digits of a phone number, optionally after "
                             "a +."), param="number")
    return value


class CallListApi(ListApi):
    serializer_class = PhoneCallSerializer
    created_field = "started"

    @extend_schema(operation_id="calls_list", tags=["calls"], summary="List phone calls, newest first",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Call.Status.values),
                               OpenApiParameter("direction", str, enum=Call.Direction.values),
                               OpenApiParameter("agent", int),
                               OpenApiParameter("number", str, description="Digits of the caller's or the called "
                                                                           "number (3 to 15, a leading + allowed).")],
                   responses={200: list_of(PhoneCallSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [CALL], "has_more": True, "next_cursor": "WyIyMDI2…"})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Call]:
        params = request.query_params
        return selectors.calls_list(status=query_choice(params, "status", Call.Status.values),
                                    direction=query_choice(params, "direction", Call.Direction.values),
                                    agent_id=query_int(params, "agent", high=MAX_ID),
                                    number=_number_fragment(params))


class CallApi(ApiView):
    @extend_schema(operation_id="calls_get", tags=["calls"], summary="Get a call",
                   description="With its transcript (the conversation's lines), timeline (Twilio's status "
                               "callbacks and what happened during the call), latency per turn, outcome, summary, "
                               "hand-over and recording metadata.",
                   responses={200: PhoneCallDetailSerializer, **errors()},
                   examples=[OpenApiExample("One", value=CALL_DETAIL, response_only=True)])
    def get(self, request: Request, call_id: int) -> Response:
        return Response(PhoneCallDetailSerializer(selectors.call_get(call_id=call_id)).data)


class WavRenderer(BaseRenderer):
    """Lets `Accept: audio/wav` through content negotiation; the audio itself is answered as it is."""

    media_type = "audio/wav"
    format = "wav"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else b""


class CallRecordingApi(ApiView):
    renderer_classes: ClassVar[list[Any]] = [JSONRenderer, WavRenderer]

    @extend_schema(operation_id="calls_recording", tags=["calls"], summary="Download a call's recording",
                   description="The recording's audio (WAV), fetched by our server from the account that owns "
                               "the number and answered to your key: Twilio's own media URL is never given out. "
                               "404 when the call has no recording (or Twilio reported it absent).",
                   parameters=[OpenApiParameter("format", exclude=True)],
                   responses={(200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                  description="The audio, `audio/wav`."),
                              **errors(*COMMON_STATUSES, 502)})
    def get(self, request: Request, call_id: int) -> HttpResponseBase:
        audio = recording_audio(call=selectors.call_recording_get(call_id=call_id), client=request.auth)
        response = HttpResponse(audio, content_type="audio/wav")
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = f'attachment; filename="call-{call_id}.wav"'
        return response

    def finalize_response(self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
                          ) -> HttpResponseBase:
        if isinstance(response, Response):  # an error: always JSON, whatever the Accept header chose
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return super().finalize_response(request, response, *args, **kwargs)
