"""The client's knowledge base: documents split into searchable chunks (client schema)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        MARKDOWN = "markdown", _("Markdown")
        HTML = "html", _("HTML")
        PDF = "pdf", _("PDF")
        URL = "url", _("Web page")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        PROCESSING = "processing", _("Processing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, default="fr")
    source_url = models.URLField(_("address"), max_length=500, blank=True)
    raw_text = models.TextField(_("content"), blank=True)
    raw_bytes = models.BinaryField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    error = models.TextField(_("error"), blank=True)
    chunk_count = models.PositiveIntegerField(_("passages"), default=0)
    # The agents that may answer from it; none means every agent of the client (one client may run
    # a dental clinic's agent and a hair salon's: neither answers with the other's facts).
    agents = models.ManyToManyField("agents.Agent", blank=True, related_name="documents", verbose_name=_("agents"))
    created = models.DateTimeField(_("added"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    text = models.TextField()
    # Normalised text (lower case; Arabic letters unified, diacritics removed) used for search.
    search_text = models.TextField()
    ts_config = models.CharField(max_length=16)
    search_vector = SearchVectorField(null=True)

    class Meta:
        ordering = ["document_id", "index"]
        indexes = [
            GinIndex(fields=["search_vector"], name="chunk_search_vector"),
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="chunk_search_trgm"),
        ]


class Word(models.Model):
    """The client's vocabulary (one row per distinct word of its documents), with a trigram index:
    a misspelt query word is corrected against it in a millisecond, then searched in full text."""

    word = models.CharField(max_length=64, unique=True)
    doc_count = models.PositiveIntegerField(default=0)  # documents using it: very common words rank nothing
    # The languages of the documents using it: a French question is never "corrected" into an English word.
    languages = ArrayField(models.CharField(max_length=8), default=list, blank=True)

    class Meta:
        indexes = [GinIndex(OpClass("word", name="gin_trgm_ops"), name="knowledge_word_trgm")]
