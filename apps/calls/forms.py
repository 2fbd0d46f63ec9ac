from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.agents.models import LANGUAGE_CODES
from apps.calls.models import Mode, PhoneSettings
from apps.core.inputs import text_clean
from apps.telephony.languages import RELAY
from apps.telephony.selectors import e164_clean


class PhoneSettingsForm(forms.Form):
    mode = forms.ChoiceField(label=_("answering mode"), choices=Mode.choices)
    consent_notice = forms.BooleanField(label=_("say a recording notice first"), required=False)
    recording = forms.BooleanField(label=_("record calls"), required=False)
    transfer_mode = forms.ChoiceField(label=_("transfer"), choices=PhoneSettings.Transfer.choices)
    handover_number = forms.CharField(label=_("hand-over number"), required=False, max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in LANGUAGE_CODES:
            self.fields[f"voice_{code}"] = forms.CharField(
                label=_("Voice (%(language)s)") % {"language": code}, required=False, max_length=80,
                widget=forms.TextInput(attrs={"placeholder": RELAY[code].voice, "dir": "ltr"}))

    def clean_handover_number(self) -> str:
        raw = text_clean(self.cleaned_data.get("handover_number") or "")
        number = e164_clean(raw)
        if raw and not number:
            raise forms.ValidationError(_("Enter the number in international form, like +33 1 23 45 67 89."))
        return number

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        voices = {code: text_clean(data[f"voice_{code}"]).strip() for code in LANGUAGE_CODES
                  if text_clean(data.get(f"voice_{code}") or "").strip()}
        return {"mode": data["mode"], "voices": voices, "consent_notice": data["consent_notice"],
                "recording": data["recording"], "transfer_mode": data["transfer_mode"],
                "handover_number": data["handover_number"]}

    @staticmethod
    def initial_for(settings: PhoneSettings) -> dict[str, Any]:
        initial = {field: getattr(settings, field) for field in ("mode", "consent_notice", "recording",
                                                                 "transfer_mode", "handover_number")}
        initial.update({f"voice_{code}": (settings.voices or {}).get(code, "") for code in LANGUAGE_CODES})
        return initial
