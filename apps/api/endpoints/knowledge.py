"""Knowledge documents: list, upload (JSON text or web address, or a multipart file), status, delete."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.base import LIST_PARAMETERS, ApiView, ListApi, errors, list_of
from apps.api.fields import id_field
from apps.api.pagination import query_choice
from apps.api.parsers import UPLOAD_PARSERS
from apps.core.errors import InvalidInput
from apps.knowledge import selectors, services
from apps.knowledge.models import Document
from apps.knowledge.text import TS_CONFIGS


class DocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.SerializerMethodField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=Document.Kind.values)
    language = serializers.CharField()
    source_url = serializers.CharField()
    status = serializers.ChoiceField(choices=Document.Status.values,
                                     help_text="pending → processing → ready (searchable) or failed (see error).")
    progress = serializers.IntegerField(help_text="Ingestion progress, 0 to 100.")
    error = serializers.CharField()
    chunk_count = serializers.IntegerField(help_text="Searchable passages.")
    agents = serializers.SerializerMethodField(help_text="The agents answering from it; empty: every agent.")
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()

    def get_object(self, _row: Any) -> str:
        return "document"

    def get_agents(self, row: Document) -> list[int]:
        return sorted(agent.pk for agent in row.agents.all())


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Document.Kind.values)
    language = serializers.ChoiceField(choices=list(TS_CONFIGS))
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=services.MAX_TEXT_CHARS, required=False, allow_blank=True,
                                 trim_whitespace=False, help_text="The content, for text, markdown and html.")
    url = serializers.URLField(max_length=500, required=False, allow_blank=True, help_text="For kind url.")
    file = serializers.FileField(required=False, help_text="Multipart only: a PDF (kind pdf) or a UTF-8 file.")
    agents = serializers.ListField(child=id_field(), max_length=50, required=False)


DOCUMENT = {"id": 12, "object": "document", "title": "Tarifs 2026", "kind": "text", "language": "fr",
            "source_url": "", "status": "ready", "progress": 100, "error": "", "chunk_count": 4, "agents": [],
            "created": "2026-12-01T09:00:00Z", "updated": "2026-12-01T09:00:03Z"}


class DocumentListApi(ListApi):
    serializer_class = DocumentSerializer
    parser_classes = UPLOAD_PARSERS

    @extend_schema(operation_id="documents_list", tags=["knowledge"], summary="List knowledge documents",
                   parameters=[*LIST_PARAMETERS, OpenApiParameter("status", str, enum=Document.Status.values),
                               OpenApiParameter("kind", str, enum=Document.Kind.values)],
                   responses={200: list_of(DocumentSerializer), **errors()},
                   examples=[OpenApiExample("A page", response_only=True, value={
                       "object": "list", "data": [DOCUMENT], "has_more": False, "next_cursor": None})])
    def get(self, request: Request, **kwargs: Any) -> Response:
        return super().get(request, **kwargs)

    def rows(self, request: Request, **kwargs: Any) -> QuerySet[Document]:
        params = request.query_params
        return selectors.documents_list(status=query_choice(params, "status", Document.Status.values),
                                        kind=query_choice(params, "kind", Document.Kind.values))

    @extend_schema(operation_id="documents_upload", tags=["knowledge"], summary="Add a knowledge document",
                   description="JSON for text, markdown, html or a web address; multipart with `file` for a PDF. "
                               "Ingestion runs in the background: poll the document until `status` is `ready`. "
                               "Counts against the plan's knowledge-document quota (429 `quota_exceeded`).",
                   request=DocumentUploadSerializer, responses={201: DocumentSerializer, **errors()},
                   examples=[OpenApiExample("Text", request_only=True, value={
                       "kind": "text", "language": "fr", "title": "Tarifs 2026",
                       "text": "Détartrage : 60 €. Blanchiment : 300 €."}),
                             OpenApiExample("Added", response_only=True, status_codes=["201"],
                                            value={**DOCUMENT, "status": "pending", "progress": 0,
                                                   "chunk_count": 0})])
    def post(self, request: Request) -> Response:
        form = DocumentUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data.get("file")
        raw = upload.read(services.MAX_DOCUMENT_BYTES + 1) if upload else None
        text = data.get("text") or ""
        if raw is not None and data["kind"] != Document.Kind.PDF:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(_("The file is not UTF-8 text."), param="file") from None
            raw = None
        document = services.document_upload(
            client=request.auth, actor=request.user, title=data.get("title") or (upload.name if upload else ""),
            kind=data["kind"], language=data["language"], text=text, data=raw, url=data.get("url") or "",
            agent_ids=data.get("agents"), ip=request.META.get("REMOTE_ADDR"))
        return Response(DocumentSerializer(document).data, status=201)


class DocumentApi(ApiView):
    @extend_schema(operation_id="documents_get", tags=["knowledge"], summary="Get a document and its status",
                   responses={200: DocumentSerializer, **errors()},
                   examples=[OpenApiExample("One", value=DOCUMENT, response_only=True)])
    def get(self, request: Request, document_id: int) -> Response:
        return Response(DocumentSerializer(selectors.document_get(document_id=document_id)).data)

    @extend_schema(operation_id="documents_delete", tags=["knowledge"], summary="Delete a document",
                   responses={204: None, **errors()})
    def delete(self, request: Request, document_id: int) -> Response:
        services.document_remove(client=request.auth, actor=request.user, document_id=document_id,
                                 ip=request.META.get("REMOTE_ADDR"))
        return Response(status=204)
