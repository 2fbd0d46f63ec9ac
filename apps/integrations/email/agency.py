"""The agency's own mail: Django's configured backend (EMAIL_BACKEND, EMAIL_HOST…, console by default)."""

from __future__ import annotations

import uuid

from django.core.mail import EmailMessage
from django.utils.translation import gettext_lazy as _

from apps.integrations.base import ProviderBase
from apps.integrations.email.base import DEFAULT_SUBJECT, from_address, mail_error
from apps.integrations.outbound import OutboundMessage, SendResult


class AgencyMailSender(ProviderBase):
    name = "agency"
    label = _("The agency's mail server")
    connectable = False

    def send(self, message: OutboundMessage) -> SendResult:
        message_id = f"<{uuid.uuid4().hex}@vocalia>"
        mail = EmailMessage(message.subject or DEFAULT_SUBJECT, message.body, from_address(), [message.to],
                            headers={"Message-ID": message_id})
        try:
            mail.send(fail_silently=False)
        except Exception as error:  # noqa: BLE001 - every failure is a ProviderError
            raise mail_error(error) from None
        return SendResult(provider_message_id=message_id)
