from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

WEEKDAY_CHOICES = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")),
                   (4, _("Friday")), (5, _("Saturday")), (6, _("Sunday"))]


class CallForm(forms.Form):
    to = forms.CharField(label=_("Number"), max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel",
                                                                                      "dir": "ltr"}))
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    reason = forms.CharField(label=_("Why the agent calls"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    consent = forms.BooleanField(label=_("This person agreed to be called by an AI voice"), required=False)
    consent_source = forms.CharField(label=_("How they agreed (form, conversation, in person…)"), max_length=200,
                                     required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("consent") and not (data.get("consent_source") or "").strip():
            self.add_error("consent_source", _("Say how they agreed: it is kept with the consent."))
        return data


class DncForm(forms.Form):
    phone = forms.CharField(label=_("Number"), max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel",
                                                                                         "dir": "ltr"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class PolicyForm(forms.Form):
    start = forms.TimeField(label=_("Calls from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=_("Calls until"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    weekdays = forms.TypedMultipleChoiceField(label=_("Days"), choices=WEEKDAY_CHOICES, coerce=int,
                                              widget=forms.CheckboxSelectMultiple)
    max_attempts = forms.IntegerField(label=_("Attempts per call"), min_value=1, max_value=10)
    retry_minutes = forms.IntegerField(label=_("Minutes between attempts"), min_value=5, max_value=24 * 60)
    voicemail = forms.BooleanField(label=_("Leave a voicemail message"), required=False)
    callbacks_auto = forms.BooleanField(label=_("Place the agent's callbacks automatically"), required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            self.add_error("end", _("The end must come after the start."))
        return data
