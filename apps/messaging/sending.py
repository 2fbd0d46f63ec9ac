"""Sending to a person: the one door every message to a customer goes through (the agent's tool, booking notices,
campaigns, replies on SMS and WhatsApp). It refuses an opted-out or bounced address and applies WhatsApp's 24-hour
rule — free text inside the window, an approved template (content SID + variables) outside it — then queues a
Delivery (apps.integrations). Call inside the client's schema."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.integrations.models import Delivery
from apps.integrations.services import delivery_queue
from apps.messaging.contacts import contact_for
from apps.messaging.models import Contact, WhatsAppTemplate


class MessageRefused(InvalidInput):
    """Not sent, on purpose: `reason` is "opted_out", "bounced" or "no_template"."""

    code = "message_refused"

    def __init__(self, message: Any, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def template_for(*, purpose: str, language: str, fallback_language: str = "") -> WhatsAppTemplate | None:
    """The enabled template for `purpose` in `language`, else in the fallback language, else in any language."""
    rows = list(WhatsAppTemplate.objects.filter(purpose=purpose, enabled=True))
    for wanted in (language, fallback_language):
        for row in rows:
            if wanted and row.language == wanted:
                return row
    return rows[0] if rows else None


def template_variables(template: WhatsAppTemplate, values: dict[str, str]) -> dict[str, str]:
    """{"1": values[template.variables[0]], "2": …}: Twilio's ContentVariables, numbered from 1."""
    names = template.variables if isinstance(template.variables, list) else []
    return {str(index): str(values.get(str(name), ""))[:1000] for index, name in enumerate(names, 1)}


def person_message_send(*, channel: str, to: str, body: str, purpose: str, subject: str = "", language: str = "",
                        template_purpose: str = "", values: dict[str, str] | None = None,
                        conversation: Any = None, send: bool = True, contact: Contact | None = None,
                        save: bool = True) -> Delivery:
    """Queue `body` to the person at `to` on `channel`, or raise MessageRefused (nothing queued).

    On WhatsApp outside the 24-hour window, the enabled template for `template_purpose` in the person's language
    goes instead, its variables filled from `values`; without one, MessageRefused("no_template"). `send=False`
    leaves the sending to the caller (a sweep sends its deliveries in batches)."""
    contact = contact or contact_for(channel=channel, address=to)
    if contact.opted_out:
        raise MessageRefused(_("This person asked to receive no more messages."), reason="opted_out")
    if contact.bounced_at is not None:
        raise MessageRefused(_("This address refused our last message."), reason="bounced")
    content_sid, variables = "", None
    if channel == "whatsapp" and not contact.window_open():
        template = template_for(purpose=template_purpose, language=language or contact.language) \
            if template_purpose else None
        if template is None:
            raise MessageRefused(_("Outside WhatsApp's 24-hour window only an approved template can be sent, and "
                                   "none is set for this message."), reason="no_template")
        content_sid, variables = template.content_sid, template_variables(template, values or {})
    return delivery_queue(channel=channel, to=contact.address, body=body, subject=subject, conversation=conversation,
                          purpose=purpose, content_sid=content_sid, content_variables=variables, send=send,
                          save=save)
