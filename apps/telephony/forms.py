"""The admin's number screens: what staff type, parsed (the services check the rest: country, pattern, agent)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.clients.models import Client
from apps.telephony.models import PhoneNumber

ACCOUNT_CHOICES = [
    (PhoneNumber.Source.AGENCY, _("The agency's account (the built-in test numbers without Twilio keys)")),
    (PhoneNumber.Source.SUBACCOUNT, _("The client's subaccount of the agency's account")),
    (PhoneNumber.Source.CLIENT, _("The client's own Twilio account (its Integrations page)")),
]
CAPABILITY_CHOICES = [("voice", _("Voice")), ("sms", _("SMS")), ("mms", _("MMS"))]
MAX_ID = 2**31 - 1


def _clients() -> Any:
    return Client.objects.order_by("name")


class AccountForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"), choices=ACCOUNT_CHOICES, initial=PhoneNumber.Source.AGENCY)
    client = forms.ModelChoiceField(label=_("Client"), queryset=_clients(), required=False,
                                    help_text=_("Needed for a subaccount or a client's own account; the client "
                                                "a bought number is assigned to."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = _clients()


class SearchForm(AccountForm):
    country = forms.CharField(label=_("Country"), max_length=8, initial="US",
                              help_text=_("Two letters: FR, MA, ES, US…"))
    contains = forms.CharField(label=_("Contains"), max_length=32, required=False,
                               help_text=_("Digits or letters the number must contain (* stands for any digit)."))
    capabilities = forms.MultipleChoiceField(label=_("Capabilities"), choices=CAPABILITY_CHOICES, required=False,
                                             initial=["voice"], widget=forms.CheckboxSelectMultiple)


class BuyForm(AccountForm):
    number = forms.CharField(label=_("Number"), max_length=32)
    agent = forms.IntegerField(label=_("Agent"), required=False, min_value=1, max_value=MAX_ID)


class AssignForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=_clients(), required=False,
                                    help_text=_("Empty: the number goes back to the agency, assigned to nobody."))
    agent = forms.IntegerField(label=_("Agent"), required=False, min_value=1, max_value=MAX_ID)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = _clients()


class SubaccountForm(forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=_clients())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = _clients()
