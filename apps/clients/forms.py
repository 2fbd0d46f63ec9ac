"""The agency admin's forms for clients and invitations: every rule `client_create` applies, checked up front."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.clients import regional, slugs
from apps.clients.models import Client, Domain, Invitation, Membership


def _slug_help() -> str:
    # The admin shows help texts as HTML: escaped here, since the rules quote what people type.
    return escape(_("%(rules)s Accents are dropped (“riad-fès” becomes “riad-fes”). It becomes the client's "
                    "address, for example riad-fes.%(domain)s, and cannot be changed later.")
                  % {"rules": slugs.slug_rules(), "domain": settings.BASE_DOMAIN})


def regional_keep_current(form: forms.ModelForm) -> None:
    """An existing client's time zone or currency stays selectable even when the lists no longer offer it."""
    if form.instance.pk is None:
        return
    for name, known in (("timezone", regional.TIMEZONES), ("currency", regional.CURRENCIES)):
        if name in form.fields:
            field = form.fields[name]
            field.choices = regional.choices_keeping(list(field.choices), getattr(form.instance, name), known)


def _default(field: str) -> Any:
    return Client._meta.get_field(field).default


class ClientAdminForm(forms.ModelForm):
    # A plain CharField: SlugField's own validator would refuse "riad-fès" before accents are folded.
    slug = forms.CharField(label=capfirst(gettext_lazy("slug")), max_length=slugs.SLUG_MAX_LENGTH,
                           help_text=lazy(_slug_help, str)())
    # Declared fields take no initial value from the model: its defaults are repeated here.
    default_language = forms.ChoiceField(label=capfirst(gettext_lazy("default language")), choices=settings.LANGUAGES,
                                         initial=_default("default_language"))
    timezone = forms.ChoiceField(label=capfirst(gettext_lazy("time zone")), choices=regional.timezone_choices,
                                 initial=_default("timezone"))
    currency = forms.ChoiceField(label=capfirst(gettext_lazy("currency")), choices=regional.currency_choices,
                                 initial=_default("currency"))

    class Meta:
        model = Client
        fields = ["name", "slug", "plan", "owner_email", "sector", "default_language", "timezone", "currency"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regional_keep_current(self)

    def clean_slug(self) -> str:
        slug = slugs.slug_normalise(self.cleaned_data["slug"])
        problem = slugs.slug_problem(slug)
        if problem:
            raise forms.ValidationError(problem, code="invalid")
        return slug


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["client", "email", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        client, email = data.get("client"), data.get("email")
        if client and email and Membership.objects.filter(client=client, user__email__iexact=email).exists():
            raise forms.ValidationError(_("This person is already a member."), code="member")
        return data


class DomainInlineForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ["domain", "is_primary"]
        labels = {"domain": gettext_lazy("domain"), "is_primary": gettext_lazy("primary domain")}  # django-tenants'


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]
        labels = {"user": gettext_lazy("user")}
