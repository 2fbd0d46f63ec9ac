from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.agents.models import WEEKDAYS, Agent
from apps.agents.sectors import sector_name, sectors
from apps.agents.tools import TOOL_LABELS

MIN_APPOINTMENT_MINUTES, MAX_APPOINTMENT_MINUTES = 5, 24 * 60
HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
DAY_LABELS = {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
              "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}


class BusinessForm(forms.Form):
    name = forms.CharField(label=_("Business name"), max_length=120)
    description = forms.CharField(label=_("What does the business do?"), widget=forms.Textarea(attrs={"rows": 3}),
                                  max_length=2000)
    services = forms.CharField(label=_("Services"), required=False, max_length=1000,
                               widget=forms.Textarea(attrs={"rows": 2}))
    hours = forms.CharField(label=_("Opening hours (as you would say them)"), required=False, max_length=300)
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    website = forms.URLField(label=_("Website"), required=False, max_length=300)
    language = forms.ChoiceField(label=_("Main language"), choices=settings.LANGUAGES)


class DraftSaveForm(forms.Form):
    name = forms.CharField(label=_("Agent name"), max_length=80)
    tools = forms.MultipleChoiceField(label=_("Tools"), choices=list(TOOL_LABELS.items()), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(label=_("Languages"), choices=settings.LANGUAGES,
                                          widget=forms.CheckboxSelectMultiple)
    with_faq = forms.BooleanField(label=_("Add the starter FAQ to the knowledge base"), required=False, initial=True)


class SectorForm(forms.Form):
    """Another sector for the draft (review step) or the agent (agent page); names in the active language."""
    sector = forms.ChoiceField(label=_("Sector"))
    replace_faq = forms.BooleanField(label=_("Replace the starter FAQ with the new sector's"), required=False,
                                     initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sector"].choices = [(code, sector_name(code)) for code in sectors()]


def _hours_text(intervals: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in intervals)


class AgentForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(label=_("Languages"), choices=settings.LANGUAGES,
                                          widget=forms.CheckboxSelectMultiple)
    default_language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    tools = forms.MultipleChoiceField(label=_("Tools"), choices=list(TOOL_LABELS.items()), required=False,
                                      widget=forms.CheckboxSelectMultiple)
    api_key = forms.CharField(label=_("Your own API key (optional)"), required=False, max_length=300,
                              widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                              help_text=_("Leave empty to keep the current key. Stored encrypted."))
    clear_api_key = forms.BooleanField(label=_("Remove the stored key"), required=False)

    class Meta:
        model = Agent
        fields = ["name", "status", "languages", "default_language", "tools", "provider", "model", "base_url",
                  "temperature", "appointment_minutes", "buffer_minutes", "handover_phone", "handover_email"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agent: Agent = self.instance
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=DAY_LABELS[day], required=False, max_length=120,
                initial=_hours_text((agent.business_hours or {}).get(day, [])),
                help_text=_("e.g. 09:00-12:30, 14:00-18:00; empty = closed"))
        for code, _name in settings.LANGUAGES:
            texts = (agent.texts or {}).get(code, {})
            self.fields[f"greeting_{code}"] = forms.CharField(required=False, max_length=500,
                                                              initial=texts.get("greeting", ""))
            self.fields[f"closing_{code}"] = forms.CharField(required=False, max_length=500,
                                                             initial=texts.get("closing", ""))
            self.fields[f"instructions_{code}"] = forms.CharField(
                required=False, max_length=6000, initial=texts.get("instructions", ""),
                widget=forms.Textarea(attrs={"rows": 5}))
        self.fields["temperature"].widget.attrs.update(min="0", max="1", step="0.1")

    def language_blocks(self) -> list[tuple[str, str, Any, Any, Any]]:
        return [(code, name, self[f"greeting_{code}"], self[f"closing_{code}"], self[f"instructions_{code}"])
                for code, name in settings.LANGUAGES]

    def hour_fields(self) -> list[Any]:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def clean_temperature(self) -> float:
        value = self.cleaned_data["temperature"]
        if not 0 <= value <= 1:
            raise forms.ValidationError(_("Between 0 and 1."))
        return value

    def clean_appointment_minutes(self) -> int:
        """A zero-minute appointment (with no buffer) once made the availability grid loop for ever."""
        value = self.cleaned_data["appointment_minutes"]
        if not MIN_APPOINTMENT_MINUTES <= value <= MAX_APPOINTMENT_MINUTES:
            raise forms.ValidationError(_("An appointment lasts between %(min)d and %(max)d minutes.")
                                        % {"min": MIN_APPOINTMENT_MINUTES, "max": MAX_APPOINTMENT_MINUTES})
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("default_language") and data.get("languages") and data["default_language"] not in data[
                "languages"]:
            self.add_error("default_language", _("The default language must be one of the agent's languages."))
        hours: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            text = (data.get(f"hours_{day}") or "").strip()
            intervals = []
            for part in filter(None, (piece.strip() for piece in text.split(","))):
                match = HOURS_RE.match(part)
                if not match or not (0 <= int(match[1]) < 24 and 0 <= int(match[3]) <= 24
                                     and int(match[2]) < 60 and int(match[4]) < 60):
                    self.add_error(f"hours_{day}", _("Write hours as 09:00-12:30, 14:00-18:00."))
                    break
                start, end = f"{int(match[1]):02d}:{match[2]}", f"{int(match[3]):02d}:{match[4]}"
                if end <= start:
                    self.add_error(f"hours_{day}", _("An interval must end after it starts."))
                    break
                intervals.append([start, end])
            hours[day] = intervals
        data["business_hours"] = hours
        return data

    def agent_values(self) -> dict[str, Any]:
        """The cleaned settings for `agent_update(values=…)` (the model fields and the business hours)."""
        values = {field: self.cleaned_data[field] for field in self._meta.fields if field in self.cleaned_data}
        values["business_hours"] = self.cleaned_data["business_hours"]
        return values

    def agent_texts(self) -> dict[str, dict[str, str]]:
        """The greeting, closing and instructions per language, for `agent_update(texts=…)`."""
        return {code: {key: self.cleaned_data.get(f"{key}_{code}", "") for key in ("instructions", "greeting",
                                                                                   "closing")}
                for code, _name in settings.LANGUAGES}
