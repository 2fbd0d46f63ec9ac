"""Phone numbers (public schema): a number routes a call or a message to its client before any schema is chosen.

A call's own record lives in the client's schema (apps.calls); this table only says whose number it is.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField


class PhoneNumber(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        UNASSIGNED = "unassigned", _("Not assigned")
        RELEASED = "released", _("Released")

    class Source(models.TextChoices):
        AGENCY = "agency", _("Agency's account")
        SUBACCOUNT = "subaccount", _("Client's subaccount")
        CLIENT = "client", _("Client's own account")
        TWIN = "twin", _("Built-in test number")

    e164 = models.CharField(_("number"), max_length=16, unique=True)
    client = models.ForeignKey("clients.Client", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="phone_numbers", verbose_name=_("client"))
    agent_id = models.PositiveIntegerField(_("agent"), null=True, blank=True)  # an Agent in the client's schema
    provider = models.CharField(_("provider"), max_length=32, default="memory")  # registry name (telephony)
    provider_sid = models.CharField(_("provider's id"), max_length=64, blank=True)  # Twilio's PN… sid
    account_source = models.CharField(_("account"), max_length=16, choices=Source.choices, default=Source.TWIN)
    account_sid = models.CharField(_("account SID"), max_length=64, blank=True)  # the (sub)account owning it
    friendly_name = models.CharField(_("label"), max_length=80, blank=True)
    voice = models.BooleanField(_("voice"), default=True)
    sms = models.BooleanField(_("SMS"), default=False)
    whatsapp = models.BooleanField(_("WhatsApp"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE,
                              db_index=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["e164"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.e164


class TwilioSubaccount(models.Model):
    """A client's subaccount of the agency's Twilio account (created by `client_subaccount_ensure`): its numbers
    and calls are billed and listed apart. Its auth token is encrypted at rest, like every credential."""

    client = models.OneToOneField("clients.Client", on_delete=models.CASCADE, related_name="twilio_subaccount",
                                  verbose_name=_("client"))
    provider = models.CharField(_("provider"), max_length=32, default="twilio")  # "memory" for the offline twin
    account_sid = models.CharField(_("subaccount SID"), max_length=64, unique=True)
    auth_token = EncryptedCharField(_("auth token"), max_length=200)
    friendly_name = models.CharField(_("label"), max_length=64, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("Twilio subaccount")
        verbose_name_plural = _("Twilio subaccounts")

    def __str__(self) -> str:
        return f"{self.account_sid} ({self.client_id})"
