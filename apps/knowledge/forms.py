from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.agents.models import Agent
from apps.knowledge.models import Document


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Document.Kind.choices)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    text = forms.CharField(label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    file = forms.FileField(label=_("File (text, Markdown, HTML or PDF)"), required=False)
    url = forms.URLField(label=_("Web address"), required=False, max_length=500)
    agents = forms.ModelMultipleChoiceField(
        label=_("Agents"), queryset=Agent.objects.order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("Leave empty: every agent answers from it."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        upload = data.get("file")
        if kind == Document.Kind.URL and not data.get("url"):
            self.add_error("url", _("Enter the address of the page."))
        if kind == Document.Kind.PDF and not upload:
            self.add_error("file", _("Choose a PDF file."))
        if kind in {Document.Kind.TEXT, Document.Kind.MARKDOWN, Document.Kind.HTML} and not (
                data.get("text") or upload):
            self.add_error("text", _("Paste the content or choose a file."))
        return data
