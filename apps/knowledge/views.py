"""Dashboard: the knowledge base (documents, ingestion progress, try a question)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.clients.entitlements import quota_require
from apps.core.errors import InvalidInput, VocaliaError
from apps.core.inputs import text_clean
from apps.dashboard.views import _require_manage
from apps.knowledge import services
from apps.knowledge.forms import DocumentForm
from apps.knowledge.models import Document
from apps.knowledge.selectors import knowledge_search

MAX_UPLOAD = services.MAX_DOCUMENT_BYTES


def knowledge_home(request: HttpRequest) -> HttpResponse:
    client = request.client  # type: ignore[attr-defined]
    form = DocumentForm(request.POST or None, request.FILES or None, initial={"language": client.default_language})
    if request.method == "POST":
        _require_manage(request)
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("file")
            try:
                quota_require(client, "knowledge_documents", used=Document.objects.count())
                raw = upload.read(MAX_UPLOAD + 1) if upload else None
                text = data.get("text") or ""
                if raw is not None and data["kind"] != Document.Kind.PDF:
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError:
                        raise InvalidInput(_("The file is not UTF-8 text.")) from None
                    raw = None
                services.document_create(title=data.get("title") or (upload.name if upload else ""),
                                         kind=data["kind"], language=data["language"], text=text, data=raw,
                                         url=data.get("url") or "", agents=list(data.get("agents") or []))
            except VocaliaError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Document added; it is being processed."))
                return redirect("knowledge")
    query = text_clean(request.GET.get("q", ""), field="q").strip()[:500]
    passages = knowledge_search(query=query, limit=5) if query else []  # every document, whichever agent
    return render(request, "knowledge/home.html", {"form": form, "documents": Document.objects.all()[:500],
                                                   "query": query, "passages": passages})


def knowledge_progress(request: HttpRequest) -> JsonResponse:
    """Ingestion progress of documents not finished yet, for the page's polling."""
    rows = Document.objects.filter(status__in=[Document.Status.PENDING, Document.Status.PROCESSING]).values(
        "id", "status", "progress")
    return JsonResponse({"documents": list(rows)})


@require_http_methods(["GET", "POST"])
def document_delete(request: HttpRequest, document_id: int) -> HttpResponse:
    """GET: the confirmation page (works without JavaScript); POST with confirm=yes: delete."""
    _require_manage(request)
    document = get_object_or_404(Document, pk=document_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.document_delete(client=request.client, document=document,  # type: ignore[attr-defined]
                                 actor=request.user, ip=request.META.get("REMOTE_ADDR"))
        messages.success(request, _("Document deleted."))
        return redirect("knowledge")
    return render(request, "knowledge/delete.html", {"document": document})


@require_POST
def document_retry(request: HttpRequest, document_id: int) -> HttpResponse:
    services.document_retry(client=request.client, document=get_object_or_404(Document, pk=document_id),  # type: ignore[attr-defined]
                            actor=request.user, ip=request.META.get("REMOTE_ADDR"))
    messages.info(request, _("Processing again."))
    return redirect("knowledge")
