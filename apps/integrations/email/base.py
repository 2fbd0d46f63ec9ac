"""E-mail: `send(OutboundMessage) -> SendResult` (apps.integrations.outbound), subject and body in text.

`agency.AgencyMailSender` is the agency default (Django's EMAIL_* settings); `smtp.SmtpSender` a client's
own server; `outbox.OutboxEmail` the offline twin.
"""

from __future__ import annotations

import smtplib
import socket

from django.conf import settings

from apps.core.errors import ProviderError
from apps.integrations.outbound import MessageSender as EmailSender

DEFAULT_SUBJECT = "Message from your assistant"


def mail_error(error: Exception, *, secret: str = "") -> ProviderError:
    """Refused credentials, sender or recipients fail again; a dropped connection or a 4xx reply may pass."""
    text = f"{type(error).__name__}: {error}"
    if secret:
        text = text.replace(secret, "[redacted]")
    permanent = isinstance(error, (smtplib.SMTPAuthenticationError, smtplib.SMTPRecipientsRefused,
                                   smtplib.SMTPSenderRefused, smtplib.SMTPNotSupportedError))
    if isinstance(error, smtplib.SMTPResponseException) and not permanent:
        permanent = 500 <= error.smtp_code < 600
    if isinstance(error, (socket.timeout, ConnectionError, smtplib.SMTPServerDisconnected)):
        permanent = False
    return ProviderError(text[:300], permanent=permanent,
                         address_refused=isinstance(error, smtplib.SMTPRecipientsRefused))


def from_address(configured: str = "") -> str:
    return configured or settings.DEFAULT_FROM_EMAIL


__all__ = ["DEFAULT_SUBJECT", "EmailSender", "from_address", "mail_error"]
