"""A message from a person on SMS or WhatsApp, once its webhook is verified and its client found. In order:

1. the contact is found (or made) and its WhatsApp window opened;
2. an opt-out word (five languages, or Twilio's own OptOutType) records the opt-out; an opt-in word undoes it;
3. a reply to a booking notice — YES / CANCEL / MOVE in five languages, or the number of an offered time — confirms,
   cancels or moves the appointment;
4. anything else goes to the agent, in one conversation per person and channel (continued while its last message is
   younger than the client's window), answered after the commit by a Celery task, on the same channel.

Call inside the client's schema."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.bookings import services as bookings
from apps.bookings.models import Appointment
from apps.conversations.models import Conversation
from apps.conversations.services import conversation_start
from apps.core.errors import Conflict, InvalidInput, VocaliaError
from apps.messaging.contacts import (
    contact_inbound,
    contact_opt_in,
    contact_opt_out,
    is_opt_in,
    is_opt_out,
    words_normalise,
)
from apps.messaging.models import Contact, Notice
from apps.messaging.notices import LANGUAGES, _zone, messaging_settings
from apps.messaging.sending import MessageRefused, person_message_send

logger = logging.getLogger(__name__)
MAX_BODY = 1600  # an SMS of ten segments; WhatsApp allows 4096, the engine's own limit applies after
OFFER_TTL = timedelta(hours=24)
REPLY_WINDOW = timedelta(days=14)  # a notice older than this is no longer what a short reply answers

CONFIRM = {"yes", "y", "confirm", "ok", "oui", "o", "confirme", "confirmer", "je confirme", "si", "confirmar",
           "confirmo", "نعم", "اكد", "تاكيد", "ايه", "اه", "واخا", "مزيان"}
CANCEL = {"cancel", "cancel appointment", "annuler", "annule", "annulation", "cancelar", "anular", "الغاء", "الغي",
          "لغي", "نلغي"}
MOVE = {"move", "reschedule", "change", "deplacer", "reporter", "changer", "modifier", "cambiar", "mover",
        "reprogramar", "تغيير", "تاجيل", "نقل", "بدل", "نبدل", "اجل", "بدلو"}
_CONFIRM, _CANCEL, _MOVE = ({words_normalise(w) for w in words} for words in (CONFIRM, CANCEL, MOVE))
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


@dataclass
class Inbound:
    channel: str  # "sms" | "whatsapp"
    from_: str
    to: str
    body: str
    message_sid: str = ""
    profile_name: str = ""
    opt_out_type: str = ""  # Twilio's Advanced Opt-Out: STOP | START | HELP


@dataclass
class Outcome:
    action: str  # "opted_out", "opted_in", "ignored", "confirmed", "cancelled", "offered", "moved", "agent"
    conversation_id: int | None = None
    reply: str = ""


def _reply(contact: Contact, text: str, *, purpose: str, conversation: Any = None) -> None:
    try:
        person_message_send(channel=contact.channel, to=contact.address, body=text, purpose=purpose,
                            conversation=conversation, contact=contact)
    except MessageRefused as refused:
        logger.info("reply to %s not sent: %s", contact.pk, refused.reason)


def _business() -> str:
    agent = Agent.objects.order_by("id").first()
    name = (agent.business or {}).get("business_name") if agent is not None else ""
    return str(name or getattr(connection.tenant, "name", ""))


def _language(contact: Contact, text: str) -> str:
    if contact.language in LANGUAGES:
        return contact.language
    tenant_language = getattr(connection.tenant, "default_language", "fr")
    return tenant_language if tenant_language in LANGUAGES else "fr"


def inbound_receive(*, message: Inbound, agent: Agent | None = None) -> Outcome:
    """Handle one inbound message (see the module's docstring). `agent`: the one the number routes to, else the
    client's first agent."""
    body = (message.body or "")[:MAX_BODY].replace("\x00", "")
    with transaction.atomic():
        contact = contact_inbound(channel=message.channel, address=message.from_)
        if message.profile_name and not contact.name:
            contact.name = message.profile_name[:120]
            contact.save(update_fields=["name", "updated"])
        language = _language(contact, body)
        opt_type = (message.opt_out_type or "").upper()
        if opt_type == "STOP" or is_opt_out(body):
            contact_opt_out(contact=contact, word=body)
            if words_normalise(body) in _CANCEL:  # Twilio opts US numbers out on CANCEL; the person also
                notice_reply(contact=contact, text=body, language=language)  # asked to cancel: both are done
            if contact.channel == "whatsapp":  # on SMS Twilio answers STOP itself (and blocks what follows)
                with translation.override(language):
                    text = _("You will receive no more messages from %(business)s. Reply START to receive them "
                             "again.") % {"business": _business()}
                _send_anyway(contact, text)
            return Outcome("opted_out")
        if opt_type == "START" or is_opt_in(body):
            contact_opt_in(contact=contact)
            with translation.override(language):
                text = _("You will receive messages from %(business)s again.") % {"business": _business()}
            _reply(contact, text, purpose="opt_in")
            return Outcome("opted_in", reply=text)
        if contact.opted_out:
            return Outcome("ignored")
        handled = notice_reply(contact=contact, text=body, language=language)
        if handled is not None:
            return handled
        if not body.strip():
            return Outcome("ignored")
        conversation = conversation_for(contact=contact, agent=agent, language=language)
        conversation_id, text = conversation.pk, body
        from apps.messaging.tasks import conversation_answer_task

        schema = connection.schema_name
        transaction.on_commit(lambda: conversation_answer_task.apply_async(
            args=[conversation_id, text], headers={"_schema_name": schema}))
    return Outcome("agent", conversation_id=conversation_id)


def _send_anyway(contact: Contact, text: str) -> None:
    """The one message after an opt-out: its confirmation (the contact is already marked opted out)."""
    from apps.integrations.services import delivery_queue

    delivery_queue(channel=contact.channel, to=contact.address, body=text, purpose="opt_out")


# --- replies to booking notices ------------------------------------------------------------------------------------


def _last_notice(contact: Contact) -> Notice | None:
    """The notice the person received last (by when it was sent: a reminder planned at booking time and sent
    today is newer than yesterday's confirmation of another appointment), of an appointment still to come."""
    return (Notice.objects.filter(channel=contact.channel, to=contact.address, status=Notice.Status.QUEUED,
                                  delivery__created__gte=timezone.now() - REPLY_WINDOW,
                                  appointment__status=Appointment.Status.BOOKED,
                                  appointment__start__gt=timezone.now())
            .select_related("appointment__agent").order_by("-delivery__created", "-id").first())


def _when(moment: datetime, language: str) -> dict[str, str]:
    local = moment.astimezone(_zone())
    with translation.override(language):
        return {"date": formats.date_format(local, "DATE_FORMAT"), "time": formats.time_format(local, "TIME_FORMAT")}


def _offer(contact: Contact, appointment: Appointment, language: str) -> str:
    slots = bookings.slots_available(agent=appointment.agent, limit=3)
    with translation.override(language):
        if not slots:
            return _("Sorry, there is no free time in the coming days. Please call us to find one.")
        contact.state = {"offer": {"reference": appointment.reference, "slots": [s.isoformat() for s in slots],
                                   "at": timezone.now().isoformat()}}
        contact.save(update_fields=["state", "updated"])
        lines = [_("Reply with the number of the time you want:")]
        lines += [_("%(number)s) %(date)s at %(time)s") % {"number": n, **_when(slot, language)}
                  for n, slot in enumerate(slots, 1)]
    return "\n".join(lines)


def _pending_offer(contact: Contact) -> dict[str, Any] | None:
    offer = (contact.state or {}).get("offer") if isinstance(contact.state, dict) else None
    if not isinstance(offer, dict):
        return None
    made = parse_datetime(str(offer.get("at") or ""))
    if made is None or timezone.now() - made > OFFER_TTL:
        return None
    return offer


def notice_reply(*, contact: Contact, text: str, language: str) -> Outcome | None:
    """A short reply to a booking notice, or the number of an offered time; None when the text is neither."""
    words = words_normalise(text).translate(_DIGITS)
    offer = _pending_offer(contact)
    if offer is not None and words.isdigit():
        return _take_offer(contact, offer, int(words), language)
    if words not in _CONFIRM | _CANCEL | _MOVE:
        return None
    notice = _last_notice(contact)
    if notice is None:
        return None
    appointment, language = notice.appointment, notice.language or language
    if words in _CANCEL:
        bookings.appointment_cancel(reference=appointment.reference)  # its "cancelled" notice tells the person
        return Outcome("cancelled")
    if words in _MOVE:
        reply = _offer(contact, appointment, language)
        _reply(contact, reply, purpose="notice:offer")
        return Outcome("offered", reply=reply)
    Appointment.objects.filter(pk=appointment.pk).update(confirmed_at=timezone.now())
    with translation.override(language):
        reply = _("Thank you, your appointment on %(date)s at %(time)s is confirmed.") % _when(appointment.start,
                                                                                                language)
    _reply(contact, reply, purpose="notice:confirmed")
    return Outcome("confirmed", reply=reply)


def _take_offer(contact: Contact, offer: dict[str, Any], number: int, language: str) -> Outcome:
    slots = [s for s in offer.get("slots") or [] if isinstance(s, str)]
    if not 1 <= number <= len(slots):
        with translation.override(language):
            reply = _("Please reply with a number from 1 to %(n)s.") % {"n": len(slots)}
        _reply(contact, reply, purpose="notice:offer")
        return Outcome("offered", reply=reply)
    start = parse_datetime(slots[number - 1])
    contact.state = {}
    contact.save(update_fields=["state", "updated"])
    try:
        with transaction.atomic():
            bookings.appointment_reschedule(reference=str(offer.get("reference") or ""), start=start)
    except (Conflict, InvalidInput) as error:
        appointment = Appointment.objects.filter(reference=str(offer.get("reference") or "")).first()
        reply = error.message
        if appointment is not None and appointment.status == Appointment.Status.BOOKED:
            reply = f"{error.message}\n{_offer(contact, appointment, language)}"
        _reply(contact, reply, purpose="notice:offer")
        return Outcome("offered", reply=reply)
    except VocaliaError as error:
        _reply(contact, error.message, purpose="notice:offer")
        return Outcome("ignored", reply=error.message)
    return Outcome("moved")


# --- the agent's conversation ----------------------------------------------------------------------------------


def conversation_for(*, contact: Contact, agent: Agent | None, language: str) -> Conversation:
    """The person's conversation on this channel: the last one, while open and younger than the client's window
    (messaging settings, 24 h by default); else a new one."""
    window = timedelta(hours=messaging_settings().reopen_hours)
    found = (Conversation.objects.filter(channel=contact.channel, visitor_phone=contact.address, ended__isnull=True,
                                         last_activity__gte=timezone.now() - window)
             .order_by("-last_activity", "-id").first())
    if found is not None:
        return found
    agent = agent or Agent.objects.order_by("id").first()
    if agent is None:
        raise InvalidInput(_("This business has no agent yet."))
    language = language if language in (agent.languages or [language]) else agent.default_language
    conversation = conversation_start(agent=agent, channel=contact.channel, language=language,
                                      visitor_id=f"{contact.channel}:{contact.address}",
                                      metadata={"contact": contact.pk})
    Conversation.objects.filter(pk=conversation.pk).update(visitor_phone=contact.address,
                                                           visitor_name=contact.name[:120])
    conversation.visitor_phone = contact.address
    return conversation


def conversation_answer(*, conversation_id: int, text: str) -> str:
    """The agent's turn for a message that came by SMS or WhatsApp, and its reply on that channel (after the turn's
    commit). Runs in the Celery worker, in the client's schema."""
    from apps.agents.engine import TurnDone, turn_run

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return ""
    # A conversation a member took over in the inbox: the engine stores the message and stays silent (no TurnDone).
    events = turn_run(client=connection.tenant, conversation_id=conversation_id, text=text)
    reply = next((event.text for event in events if isinstance(event, TurnDone)), "")
    if reply:
        contact = Contact.objects.filter(channel=conversation.channel, address=conversation.visitor_phone).first()
        if contact is not None:
            _reply(contact, reply, purpose="agent", conversation=conversation)
    return reply


# --- Twilio's webhooks (called by apps.messaging.webhooks once the signature is checked) --------------------------

STATUS_MAP = {"sent": "sent", "delivered": "delivered", "read": "delivered", "failed": "failed",
              "undelivered": "failed"}  # queued, accepted, sending, scheduled: nothing new to record


def _channel_feature(channel: str) -> str:
    return {"sms": "sms", "whatsapp": "whatsapp"}[channel]


def inbound_webhook(*, route: Any, params: dict[str, str], channel: str) -> Outcome | None:
    """An inbound SMS / WhatsApp message for a routed number: handled in its client's schema. None (nothing
    written) for a number we do not route, a suspended client, or a plan without the channel."""
    from django_tenants.utils import tenant_context

    from apps.clients.entitlements import client_may

    if route is None or not route.client_active or not client_may(route.client, _channel_feature(channel)):
        logger.info("inbound %s to an unrouted or unentitled number ignored", channel)
        return None
    sender = params.get("From", "")
    if channel == "whatsapp" and not sender.startswith("whatsapp:"):
        raise InvalidInput(_("A WhatsApp message comes from a whatsapp: address."))
    message = Inbound(channel=channel, from_=sender, to=params.get("To", ""), body=params.get("Body", ""),
                      message_sid=params.get("MessageSid", "")[:64], profile_name=params.get("ProfileName", ""),
                      opt_out_type=params.get("OptOutType", ""))
    with tenant_context(route.client):
        agent = Agent.objects.filter(pk=route.agent_id).first() if route.agent_id else None
        return inbound_receive(message=message, agent=agent)


def status_webhook(*, route: Any, params: dict[str, str]) -> Any:
    """Twilio's status callback for a message we sent (MessageSid, MessageStatus, ErrorCode): its Delivery moves
    forward. Unknown statuses and messages that are not ours change nothing."""
    from django_tenants.utils import tenant_context

    from apps.integrations.services import delivery_status_update

    status = STATUS_MAP.get(params.get("MessageStatus", "").lower())
    sid = params.get("MessageSid", "") or params.get("SmsSid", "")
    if route is None or route.client is None or status is None or not sid:
        return None
    code = params.get("ErrorCode", "")[:10]
    with tenant_context(route.client):
        return delivery_status_update(provider="twilio", provider_message_id=sid[:200], status=status,
                                      error=f"Twilio error {code}" if code else "", error_code=code)
