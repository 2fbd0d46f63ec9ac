"""Writes: a client's connected accounts (owner only, audited) and outbound deliveries (queued, then sent by a
Celery task — never inline in a request, a tool call or a socket)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.clients.entitlements import client_require
from apps.clients.models import Membership
from apps.core.errors import InvalidInput, NotFound, PermissionDenied, ProviderError
from apps.core.inputs import text_clean
from apps.integrations import registry
from apps.integrations.crypto import blind_index, credentials_dump
from apps.integrations.messages import address_check
from apps.integrations.models import ConnectedAccount, Delivery
from apps.integrations.outbound import OutboundMessage
from apps.integrations.resolver import provider_for

logger = logging.getLogger(__name__)

MAX_VALUE = 500
MAX_ERROR = 500


def _require_owner(*, client: Any, actor: Any) -> None:
    if getattr(actor, "is_staff", False):
        return
    if actor is None or not Membership.objects.filter(user=actor, client=client, role=Membership.Role.OWNER).exists():
        raise PermissionDenied(_("Only an owner can change the integrations."))


def _provider_class(kind: str, provider: str) -> Any:
    if kind not in registry.PROVIDERS or provider not in registry.PROVIDERS[kind]:
        raise InvalidInput(_("Unknown provider."))
    return registry.provider_class(kind, provider)


# --- connected accounts ------------------------------------------------------------------------------------------


def account_connect(*, client: Any, kind: str, provider: str, values: dict[str, str], actor: Any,
                    ip: str | None = None) -> ConnectedAccount:
    """Store (or update) the client's own account with `provider` and make it the one used for `kind`.

    A secret field left blank keeps the stored value (the page never shows it back). Call inside the client's
    context."""
    _require_owner(client=client, actor=actor)
    cls = _provider_class(kind, provider)
    if provider == registry.TWINS[kind] or cls.offline:
        raise InvalidInput(_("The built-in provider needs no account."))
    if registry.FEATURES[kind]:
        client_require(client, registry.FEATURES[kind])
    with transaction.atomic():
        account = ConnectedAccount.objects.select_for_update().filter(kind=kind, provider=provider).first()
        stored = account.credentials if account is not None else {}
        merged: dict[str, str] = {}
        changed: list[str] = []
        for field in cls.fields:
            given = text_clean(str(values.get(field.name) or ""), field=field.name).strip()[:MAX_VALUE]
            value = stored.get(field.name, "") if field.secret and not given else given
            if value != stored.get(field.name, ""):
                changed.append(field.name)
            if value:
                merged[field.name] = value
        missing = [str(field.label) for field in cls.fields if field.required and not merged.get(field.name)]
        if missing:
            raise InvalidInput(_("Please fill in: %(fields)s.") % {"fields": ", ".join(missing)})
        lookup = next((merged.get(field.name, "") for field in cls.fields if field.lookup), "")
        if account is None:
            account = ConnectedAccount(kind=kind, provider=provider)
        account.credentials_encrypted = credentials_dump(merged)
        account.lookup_hash = blind_index(lookup)
        account.enabled = True
        account.save()
        if kind != "llm":  # one account in use per kind; language models are chosen per agent
            ConnectedAccount.objects.filter(kind=kind).exclude(pk=account.pk).update(enabled=False)
        audit_record(action="integration.connected", actor=actor, target=f"{kind}:{provider}", ip=ip,
                     data={"kind": kind, "provider": provider, "changed": changed})  # names only, never values
    return account


def account_disconnect(*, client: Any, kind: str, provider: str, actor: Any, ip: str | None = None) -> None:
    """Forget the client's account: the agency default (or the twin) applies again."""
    _require_owner(client=client, actor=actor)
    _provider_class(kind, provider)
    with transaction.atomic():
        deleted, _rows = ConnectedAccount.objects.filter(kind=kind, provider=provider).delete()
        if not deleted:
            raise NotFound()
        audit_record(action="integration.disconnected", actor=actor, target=f"{kind}:{provider}", ip=ip,
                     data={"kind": kind, "provider": provider})


def accounts_by_provider(*, client: Any) -> dict[tuple[str, str], ConnectedAccount]:
    return {(account.kind, account.provider): account for account in ConnectedAccount.objects.all()}


# --- deliveries --------------------------------------------------------------------------------------------------


def delivery_queue(*, channel: str, to: str, body: str, subject: str = "", conversation: Any = None,
                   purpose: str = "agent", content_sid: str = "",
                   content_variables: dict[str, str] | None = None, send: bool = True,
                   save: bool = True) -> Delivery:
    """Record an outbound message as queued; a Celery task sends it after the commit, in this client's schema.
    A WhatsApp template message carries `content_sid` (and its variables); `body` is then what it says, for the
    outbox and the inbox. `save=False` returns the checked, unsaved row (for a batch's bulk insert)."""
    to = address_check(channel=channel, to=to)
    if not body.strip() and not content_sid:
        raise InvalidInput(_("The message is empty."))
    delivery = Delivery(channel=channel, to=to, subject=subject.strip()[:200], body=body[:4000],
                        conversation=conversation, purpose=purpose[:32], content_sid=content_sid[:34],
                        content_variables=content_variables)
    if not save:  # checked, not stored: the caller bulk-creates a batch, then sends it (deliveries_send_later)
        return delivery
    delivery.save()
    if send:
        from apps.integrations.tasks import delivery_send_task

        schema = connection.schema_name  # the task runs in the schema it was sent from (tenant-schemas-celery)
        transaction.on_commit(lambda: delivery_send_task.apply_async(args=[delivery.pk],
                                                                     headers={"_schema_name": schema}))
    return delivery


def deliveries_send_later(delivery_ids: list[int], *, batch: int = 200) -> None:
    """After the commit, send these queued deliveries in batches (one task per `batch`, in this schema): a sweep
    that queues thousands of reminders sends a few broker messages, not thousands."""
    if not delivery_ids:
        return
    from apps.integrations.tasks import deliveries_send_task

    schema = connection.schema_name
    chunks = [delivery_ids[i:i + batch] for i in range(0, len(delivery_ids), batch)]
    transaction.on_commit(lambda: [deliveries_send_task.apply_async(args=[chunk], headers={"_schema_name": schema})
                                   for chunk in chunks])


def delivery_send(*, delivery_id: int) -> Delivery:
    """One attempt at sending a queued delivery, through this client's provider for its channel. Safe to run
    twice: a delivery no longer queued, or claimed by another worker, is left alone. A transient failure with
    tries left keeps it queued (the task retries); a permanent one, or the last try, marks it failed."""
    from django.conf import settings

    delivery = Delivery.objects.get(pk=delivery_id)
    if delivery.status != Delivery.Status.QUEUED:
        return delivery
    claimed = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED,
                                      attempts=delivery.attempts).update(attempts=F("attempts") + 1,
                                                                         updated=timezone.now())
    if not claimed:
        return Delivery.objects.get(pk=delivery.pk)
    delivery.attempts += 1
    resolved = provider_for(delivery.channel, client=connection.tenant)
    delivery.provider = resolved.name
    message = OutboundMessage(to=delivery.to, body=delivery.body, subject=delivery.subject, reference=str(delivery.pk),
                              content_sid=delivery.content_sid, content_variables=delivery.content_variables)
    try:
        result = resolved.provider.send(message)
    except ProviderError as error:
        delivery.last_error = str(error.message)[:MAX_ERROR]
        if error.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
        logger.warning("delivery %s via %s failed (attempt %s, permanent=%s): %s", delivery.pk, resolved.name,
                       delivery.attempts, error.permanent, delivery.last_error)
        delivery.save(update_fields=["provider", "last_error", "status", "updated"])
        if error.address_refused:
            _on_address_refused(delivery)
        if delivery.status == Delivery.Status.FAILED:
            _on_final(delivery)
        return delivery
    now = timezone.now()
    delivery.status = Delivery.Status.DELIVERED if result.status == "delivered" else Delivery.Status.SENT
    delivery.provider_message_id = result.provider_message_id[:200]
    delivery.sent_at = now
    delivery.delivered_at = now if delivery.status == Delivery.Status.DELIVERED else None
    delivery.last_error = ""
    delivery.save(update_fields=["provider", "status", "provider_message_id", "sent_at", "delivered_at",
                                 "last_error", "updated"])
    _on_final(delivery)
    return delivery


CALLBACK_STATUSES = {Delivery.Status.SENT, Delivery.Status.DELIVERED, Delivery.Status.FAILED}
_RANK = {Delivery.Status.QUEUED: 0, Delivery.Status.SENT: 1, Delivery.Status.DELIVERED: 2,
         Delivery.Status.FAILED: 2}


def delivery_status_update(*, provider: str, provider_message_id: str, status: str,
                           error: str = "", error_code: str = "") -> Delivery | None:
    """A provider's status callback (delivered, failed…), for the provider's webhook view. Callbacks arrive out
    of order and more than once: a status never moves backwards. None when the message is not ours."""
    if status not in CALLBACK_STATUSES or not provider_message_id:
        raise InvalidInput(_("Unknown delivery status."))
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(provider=provider,
                                                               provider_message_id=provider_message_id).first()
        if delivery is None:
            return None
        if _RANK[status] < _RANK[delivery.status] or delivery.status in {Delivery.Status.DELIVERED,
                                                                        Delivery.Status.FAILED}:
            return delivery
        delivery.status = status
        if status == Delivery.Status.DELIVERED:
            delivery.delivered_at = timezone.now()
        if status == Delivery.Status.FAILED:
            delivery.last_error = error[:MAX_ERROR]
        delivery.save(update_fields=["status", "delivered_at", "last_error", "updated"])
        if status == Delivery.Status.FAILED and error_code in ADDRESS_REFUSED_CODES:
            _on_address_refused(delivery)
        _on_final(delivery)
    return delivery


# Twilio error codes that mean "this address will never receive": unreachable, unsubscribed (STOP at the carrier),
# not a mobile number, not on WhatsApp.
ADDRESS_REFUSED_CODES = {"21211", "21610", "21614", "30003", "30005", "30006", "63003"}


def _on_address_refused(delivery: Delivery) -> None:
    from apps.messaging.contacts import contact_bounce_record

    contact_bounce_record(channel=delivery.channel, address=delivery.to, reason=delivery.last_error)


def _on_final(delivery: Delivery) -> None:
    """A delivery was sent, delivered or failed: a campaign contact waiting on it follows (or is tried again)."""
    from apps.messaging.campaigns import recipient_delivery_settled

    recipient_delivery_settled(delivery=delivery)


def email_test_queue(*, client: Any, to: str, actor: Any, ip: str | None = None) -> Delivery:
    """The Integrations page's "send a test": one e-mail through the provider this client would use now."""
    _require_owner(client=client, actor=actor)
    with transaction.atomic():
        delivery = delivery_queue(channel=Delivery.Channel.EMAIL, to=to, purpose="test",
                                  subject=_("Test message from %(client)s") % {"client": client.name},
                                  body=_("This is a test. If you can read it, your assistant's e-mail works."))
        audit_record(action="integration.test_sent", actor=actor, target=f"email:{delivery.pk}", ip=ip,
                     data={"delivery": delivery.pk})
    return delivery
