"""A client's own SMTP server (host, port, user, password, TLS, sender address)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import ClassVar

from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ProviderError
from apps.integrations.base import Field, ProviderBase
from apps.integrations.email.base import DEFAULT_SUBJECT, mail_error
from apps.integrations.outbound import OutboundMessage, SendResult


@dataclass
class SmtpSender(ProviderBase):
    host: str
    from_email: str
    port: str = "587"
    username: str = ""
    password: str = ""
    security: str = "starttls"  # starttls | ssl | none
    timeout_s: float = 10.0

    name: ClassVar = "smtp"
    label: ClassVar = _("Your own SMTP server")
    fields: ClassVar = (
        Field("host", _("Server"), placeholder="smtp.example.com"),
        Field("port", _("Port"), required=False, placeholder="587"),
        Field("username", _("User name"), required=False),
        Field("password", _("Password"), secret=True, required=False),
        Field("security", _("Security (starttls, ssl or none)"), required=False, placeholder="starttls"),
        Field("from_email", _("Sender address"), placeholder="hello@example.com"),
    )

    def _backend(self) -> EmailBackend:
        try:
            port = int(self.port or 587)
        except ValueError:
            raise ProviderError(f"invalid SMTP port {self.port!r}", permanent=True) from None
        security = (self.security or "starttls").lower()
        if security not in {"starttls", "ssl", "none"}:
            raise ProviderError(f"unknown SMTP security {self.security!r}", permanent=True)
        return EmailBackend(host=self.host, port=port, username=self.username, password=self.password,
                            use_tls=security == "starttls", use_ssl=security == "ssl", timeout=self.timeout_s,
                            fail_silently=False)

    def send(self, message: OutboundMessage) -> SendResult:
        message_id = f"<{uuid.uuid4().hex}@vocalia>"
        backend = self._backend()
        mail = EmailMessage(message.subject or DEFAULT_SUBJECT, message.body, self.from_email, [message.to],
                            headers={"Message-ID": message_id}, connection=backend)
        try:
            sent = backend.send_messages([mail])
        except Exception as error:  # noqa: BLE001 - every failure is a ProviderError, the password redacted
            raise mail_error(error, secret=self.password) from None
        if not sent:
            raise ProviderError("the SMTP server accepted no message", permanent=False)
        return SendResult(provider_message_id=message_id)
