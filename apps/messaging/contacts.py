"""People on their channels: one `Contact` per (channel, address). Opt-out and opt-in words in five languages, bounces,
and the WhatsApp window (opened by each message the person sends). Call inside the client's schema."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import InvalidInput
from apps.core.phones import client_phone_e164
from apps.messaging.models import Contact

# A whole message equal to one of these (case, accents, punctuation and tatweel ignored) opts out / back in.
# Twilio's own SMS keywords (STOP, STOPALL, UNSUBSCRIBE, END, QUIT, REVOKE, OPTOUT / START, UNSTOP) are included:
# Twilio acts on them at the carrier level too. CANCEL is left out (it cancels an appointment here): see
# docs/messaging.md.
OPT_OUT_WORDS = {
    "en": {"stop", "stopall", "unsubscribe", "end", "quit", "revoke", "optout", "opt out"},
    "fr": {"stop", "arret", "arrete", "arreter", "desabonner", "desinscrire", "desinscription", "stop sms"},
    "es": {"stop", "baja", "parar", "darme de baja", "cancelar suscripcion", "alto"},
    "ar": {"توقف", "ايقاف", "إيقاف", "الغاء الاشتراك", "إلغاء الاشتراك", "قف"},
    "ary": {"حبس", "وقف", "ستوب", "حبسو", "بلا ميساجات"},
}
OPT_IN_WORDS = {
    "en": {"start", "unstop", "subscribe"},
    "fr": {"start", "reprendre", "reabonner"},
    "es": {"start", "alta", "reanudar"},
    "ar": {"ابدأ", "ابدا", "استئناف", "اشتراك"},
    "ary": {"بدا", "رجع", "عاود"},
}
_ALL_OUT = {word for words in OPT_OUT_WORDS.values() for word in words}
_ALL_IN = {word for words in OPT_IN_WORDS.values() for word in words}
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def words_normalise(text: str) -> str:
    """'  Arrêt ! ' → 'arret'; Arabic kept (hamza forms and tatweel folded)."""
    text = unicodedata.normalize("NFKD", (text or "")[:200]).replace("\u0640", "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return _PUNCT.sub(" ", text.casefold()).strip()


_OUT = {words_normalise(word) for word in _ALL_OUT}
_IN = {words_normalise(word) for word in _ALL_IN}


def is_opt_out(text: str) -> bool:
    return words_normalise(text) in _OUT


def is_opt_in(text: str) -> bool:
    return words_normalise(text) in _IN


def address_normalise(*, channel: str, address: str) -> str:
    """E.164 for phones ('whatsapp:' and spaces dropped, a national number read in the client's country), lower
    case for e-mail; InvalidInput otherwise."""
    address = (address or "").strip()
    if channel == "email":
        if "@" not in address or len(address) > 254 or any(ch.isspace() or ord(ch) < 32 for ch in address):
            raise InvalidInput(_("Enter a valid e-mail address."))
        return address.lower()
    if channel not in {"sms", "whatsapp"}:
        raise InvalidInput(_("Unknown channel."))
    phone = client_phone_e164(address)  # "0661 23 45 67" read in the client's country, "+212…" as it is
    if not phone:
        raise InvalidInput(_("Enter a valid phone number."))
    return phone


def contact_for(*, channel: str, address: str, name: str = "", language: str = "") -> Contact:
    """The person's contact on this channel, created the first time (safe under a race)."""
    address = address_normalise(channel=channel, address=address)
    contact = Contact.objects.filter(channel=channel, address=address).first()
    if contact is None:
        try:
            with transaction.atomic():
                contact = Contact.objects.create(channel=channel, address=address, name=name[:120],
                                                 language=language[:8])
        except IntegrityError:
            contact = Contact.objects.get(channel=channel, address=address)
    changed = []
    if name and not contact.name:
        contact.name, changed = name[:120], [*changed, "name"]
    if language and contact.language != language:
        contact.language, changed = language[:8], [*changed, "language"]
    if changed:
        contact.save(update_fields=[*changed, "updated"])
    return contact


def contacts_for_many(pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Contact]:
    """The contacts of many normalised (channel, address) pairs in three queries, missing ones created (a sweep's
    batch)."""
    if not pairs:
        return {}
    addresses = {address for _channel, address in pairs}
    found = {(c.channel, c.address): c for c in Contact.objects.filter(address__in=addresses)}
    missing = [Contact(channel=channel, address=address) for channel, address in pairs if (channel, address)
               not in found]
    if missing:
        Contact.objects.bulk_create(missing, ignore_conflicts=True)
        found = {(c.channel, c.address): c for c in Contact.objects.filter(address__in=addresses)}
    return found


def contact_inbound(*, channel: str, address: str, language: str = "") -> Contact:
    """The person wrote to us: their WhatsApp window opens for 24 hours."""
    contact = contact_for(channel=channel, address=address, language=language)
    contact.last_inbound_at = timezone.now()
    contact.save(update_fields=["last_inbound_at", "updated"])
    return contact


def contact_opt_out(*, contact: Contact, word: str) -> Contact:
    contact.opted_out_at, contact.opt_out_word, contact.state = timezone.now(), word.strip()[:40], {}
    contact.save(update_fields=["opted_out_at", "opt_out_word", "state", "updated"])
    return contact


def contact_opt_in(*, contact: Contact) -> Contact:
    contact.opted_out_at, contact.opted_in_at = None, timezone.now()
    contact.save(update_fields=["opted_out_at", "opted_in_at", "updated"])
    return contact


def contact_bounce_record(*, channel: str, address: str, reason: str) -> Contact | None:
    """The provider refused the address (an SMTP 5xx on the recipient, Twilio's 21211/21610…): nothing more goes
    there until the person writes again or an owner clears it."""
    try:
        contact = contact_for(channel=channel, address=address)
    except InvalidInput:
        return None
    contact.bounced_at, contact.bounce_reason = timezone.now(), reason[:300]
    contact.save(update_fields=["bounced_at", "bounce_reason", "updated"])
    return contact


def contacts_list(*, channel: str = "", query: str = "", limit: int = 300) -> Any:
    rows = Contact.objects.all()
    if channel:
        rows = rows.filter(channel=channel)
    if query:
        rows = rows.filter(address__icontains=query[:100])
    return rows[:limit]
