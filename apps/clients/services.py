"""Writes on clients: create, provision, suspend, keys, people, staff access.

Each service names its actor, checks permission first, writes the client's audit
trail and queues side effects after commit.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from apps.audit.services import audit_record
from apps.clients import keys, provisioning, regional, slugs
from apps.clients.models import ApiKey, Client, Domain, Invitation, Membership, Plan, StaffAccessGrant
from apps.clients.principals import ApiActor
from apps.clients.selectors import client_primary_host
from apps.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied

logger = logging.getLogger(__name__)

INVITATION_TTL = timedelta(days=7)
STAFF_ACCESS_SALT = "vocalia.staff-access"


def _schema_for(slug: str) -> str:
    return "c_" + slug.replace("-", "_")


def client_url(client: Client, path: str = "/") -> str:
    scheme = settings.PUBLIC_URL.split("://", 1)[0]
    port = settings.PUBLIC_URL.rsplit(":", 1)[-1] if settings.PUBLIC_URL.count(":") == 2 else ""
    host = client_primary_host(client)
    return f"{scheme}://{host}{':' + port.strip('/') if port else ''}{path}"


def invitation_url(invitation: Invitation) -> str:
    """Where the invited person accepts: the client's own host (the token is the whole secret of the link)."""
    return client_url(invitation.client, f"/invite/{invitation.token}/")


# --- clients -----------------------------------------------------------------------------------


def client_create(*, name: str, slug: str, plan: Plan, owner_email: str = "", default_language: str = "fr",
                  timezone_name: str = "Europe/Paris", currency: str = "EUR", sector: str = "",
                  actor: Any = None, provision: bool = True) -> Client:
    """Record a new client (status provisioning) with its primary domain; provisioning runs in Celery."""
    slug = slugs.slug_normalise(slug)
    problem = (slugs.slug_problem(slug) or regional.timezone_problem(timezone_name)
               or regional.currency_problem(currency))
    if problem:
        raise InvalidInput(problem)
    if default_language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."))
    with transaction.atomic():
        if Client.objects.filter(slug=slug).exists():
            raise Conflict(_("A client with this slug already exists."))
        client = Client.objects.create(
            name=name.strip(), slug=slug, schema_name=_schema_for(slug), plan=plan,
            owner_email=owner_email.strip().lower(), default_language=default_language,
            timezone=timezone_name, currency=currency, sector=sector,
        )
        Domain.objects.create(domain=f"{slug}.{settings.BASE_DOMAIN}", tenant=client, is_primary=True)
        if provision:
            from apps.clients.tasks import client_provision_task

            transaction.on_commit(lambda: client_provision_task.delay(client.pk))
    logger.info("client %s created by %s", slug, getattr(actor, "email", "system"))
    return client


def _step(client: Client, step: str) -> None:
    client.provisioning_step = step
    client.save(update_fields=["provisioning_step"])


def client_provision(*, client_id: int) -> Client:
    """Bring a client to `active`: schema, domain, keys, owner. Safe to run again at any point."""
    client = Client.objects.select_related("plan").get(pk=client_id)
    if client.status == Client.Status.SUSPENDED:
        raise Conflict(_("A suspended client is not provisioned; reactivate it first."))
    if client.status != Client.Status.PROVISIONING:
        Client.objects.filter(pk=client.pk).update(status=Client.Status.PROVISIONING, status_detail="")
        client.status = Client.Status.PROVISIONING
    try:
        _step(client, "schema")
        if not provisioning.schema_is_current(client.schema_name):
            if provisioning.schema_exists_for(client.schema_name):
                provisioning.schema_migrate(client.schema_name)
            else:
                provisioning.schema_clone(client.schema_name)
        _step(client, "domain")
        Domain.objects.get_or_create(
            domain=f"{client.slug}.{settings.BASE_DOMAIN}", defaults={"tenant": client, "is_primary": True}
        )
        _step(client, "keys")
        _keys_ensure(client)
        _step(client, "owner")
        if client.owner_email:
            _owner_ensure(client)
        client.status = Client.Status.ACTIVE
        client.status_detail = ""
        client.provisioning_step = "done"
        client.save(update_fields=["status", "status_detail", "provisioning_step"])
        with tenant_context(client):
            audit_record(action="client.provisioned", target=client.slug)
    except Exception as exc:
        logger.exception("provisioning %s failed at %s", client.slug, client.provisioning_step)
        Client.objects.filter(pk=client.pk).update(
            status=Client.Status.FAILED,
            status_detail=_("Provisioning failed at step “%(step)s”: %(error)s")
            % {"step": client.provisioning_step, "error": exc},
        )
        raise
    return client


def _keys_ensure(client: Client) -> None:
    now = timezone.now()
    live = [k for k in ApiKey.objects.filter(client=client) if k.is_valid_at(now)]
    if not any(k.kind == ApiKey.Kind.PUBLISHABLE for k in live):
        ApiKey.objects.create(client=client, kind=ApiKey.Kind.PUBLISHABLE, lookup=keys.publishable_new(),
                              label="widget")
    if not any(k.kind == ApiKey.Kind.SECRET for k in live):
        lookup, full = keys.secret_new()
        ApiKey.objects.create(client=client, kind=ApiKey.Kind.SECRET, lookup=lookup,
                              secret_hash=keys.secret_hash(full), reveal_once=full, label="default")


def _owner_ensure(client: Client) -> None:
    user = get_user_model().objects.filter(email__iexact=client.owner_email).first()
    if user is not None:
        Membership.objects.get_or_create(user=user, client=client, defaults={"role": Membership.Role.OWNER})
        return
    pending = Invitation.objects.filter(client=client, email__iexact=client.owner_email, accepted_at__isnull=True,
                                        revoked_at__isnull=True, expires_at__gt=timezone.now()).exists()
    if not pending:
        invitation_create(client=client, email=client.owner_email, role=Membership.Role.OWNER, actor=None)


def client_suspend(*, client: Client, actor: Any, reason: str = "") -> Client:
    if client.status == Client.Status.SUSPENDED:
        return client
    client.status = Client.Status.SUSPENDED
    client.status_detail = reason
    client.save(update_fields=["status", "status_detail"])
    with tenant_context(client):
        audit_record(action="client.suspended", actor=actor, target=client.slug, data={"reason": reason})
    return client


def client_reactivate(*, client: Client, actor: Any) -> Client:
    if client.status != Client.Status.SUSPENDED:
        raise Conflict(_("Only a suspended client can be reactivated."))
    client.status = Client.Status.ACTIVE
    client.status_detail = ""
    client.save(update_fields=["status", "status_detail"])
    with tenant_context(client):
        audit_record(action="client.reactivated", actor=actor, target=client.slug)
    return client


CLIENT_SETTINGS_FIELDS = ("name", "default_language", "timezone", "currency")


def client_settings_update(*, client: Client, actor: Any, values: dict[str, Any], ip: str | None = None) -> Client:
    """The dashboard's settings (name, language, time zone, currency): owners and admins; audited (old and new
    values, none of them secret). Call inside the client's context."""
    manager_require(client=client, actor=actor, message=_("Only owners and admins can do this."))
    with transaction.atomic():
        stored = Client.objects.select_for_update().get(pk=client.pk)
        changed = {field: {"from": getattr(stored, field), "to": values[field]}
                   for field in CLIENT_SETTINGS_FIELDS if field in values and getattr(stored, field) != values[field]}
        for field, change in changed.items():
            setattr(stored, field, change["to"])
            setattr(client, field, change["to"])
        if changed:
            stored.save(update_fields=list(changed))
            audit_record(action="client.settings_changed", actor=actor, target=client.slug, ip=ip, data=changed)
    return client


# --- keys --------------------------------------------------------------------------------------


def manager_require(*, client: Client, actor: Any, message: str | None = None) -> None:
    """PermissionDenied unless `actor` is agency staff or an owner or admin of `client` (for other apps' services)."""
    if getattr(actor, "is_staff", False):
        return
    if isinstance(actor, ApiActor):  # a secret key manages its own client, never another
        if actor.manages(client):
            return
        raise PermissionDenied(message)
    membership = Membership.objects.filter(user=actor, client=client).first() if actor else None
    if membership is None or not membership.can_manage:
        raise PermissionDenied(message)


_require_manager = manager_require


def _require_owner(*, client: Client, actor: Any, message: str) -> None:
    if getattr(actor, "is_staff", False):
        return
    if not Membership.objects.filter(user=actor, client=client, role=Membership.Role.OWNER).exists():
        raise PermissionDenied(message)


def secret_key_rotate(*, client: Client, actor: Any, overlap: timedelta | None = None) -> tuple[ApiKey, str]:
    """A new secret key; the current ones keep working for `overlap` (default KEY_ROTATION_OVERLAP)."""
    _require_manager(client=client, actor=actor)
    overlap = settings.KEY_ROTATION_OVERLAP if overlap is None else overlap
    now = timezone.now()
    with transaction.atomic():
        for old in ApiKey.objects.select_for_update().filter(client=client, kind=ApiKey.Kind.SECRET,
                                                             revoked_at__isnull=True):
            if old.is_valid_at(now) and (old.expires_at is None or old.expires_at > now + overlap):
                old.expires_at = now + overlap
                old.reveal_once = ""
                old.save(update_fields=["expires_at", "reveal_once"])
        lookup, full = keys.secret_new()
        key = ApiKey.objects.create(client=client, kind=ApiKey.Kind.SECRET, lookup=lookup,
                                    secret_hash=keys.secret_hash(full), label="rotated")
        with tenant_context(client):
            audit_record(action="key.secret_rotated", actor=actor, target=lookup,
                         data={"overlap_hours": round(overlap.total_seconds() / 3600, 2)})
    return key, full


def publishable_key_rotate(*, client: Client, actor: Any, overlap: timedelta | None = None) -> ApiKey:
    _require_manager(client=client, actor=actor)
    overlap = settings.KEY_ROTATION_OVERLAP if overlap is None else overlap
    now = timezone.now()
    with transaction.atomic():
        ApiKey.objects.filter(client=client, kind=ApiKey.Kind.PUBLISHABLE, revoked_at__isnull=True,
                              expires_at__isnull=True).update(expires_at=now + overlap)
        key = ApiKey.objects.create(client=client, kind=ApiKey.Kind.PUBLISHABLE, lookup=keys.publishable_new(),
                                    label="rotated")
        for old in ApiKey.objects.filter(client=client, kind=ApiKey.Kind.PUBLISHABLE).exclude(pk=key.pk):
            old.save(update_fields=["expires_at"])  # signal: drop cached copies
        with tenant_context(client):
            audit_record(action="key.publishable_rotated", actor=actor, target=key.lookup)
    return key


def key_revoke(*, key: ApiKey, actor: Any) -> ApiKey:
    _require_manager(client=key.client, actor=actor)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.reveal_once = ""
        key.save(update_fields=["revoked_at", "reveal_once"])
        with tenant_context(key.client):
            audit_record(action="key.revoked", actor=actor, target=key.lookup)
    return key


def secret_key_reveal(*, key: ApiKey, actor: Any) -> str:
    """The plaintext of a key made at provisioning, once; afterwards only rotation makes a new one."""
    _require_manager(client=key.client, actor=actor)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if not key.reveal_once:
            raise Conflict(_("This key was already shown. Rotate it to get a new one."))
        value = key.reveal_once
        key.reveal_once = ""
        key.save(update_fields=["reveal_once"])
        with tenant_context(key.client):
            audit_record(action="key.secret_revealed", actor=actor, target=key.lookup)
    return value


# --- people ------------------------------------------------------------------------------------


def invitation_create(*, client: Client, email: str, role: str, actor: Any) -> Invitation:
    email = email.strip().lower()
    if role not in Membership.Role.values:
        raise InvalidInput(_("Unknown role."))
    if actor is not None:
        _require_manager(client=client, actor=actor)
        if role == Membership.Role.OWNER:
            _require_owner(client=client, actor=actor, message=_("Only an owner can invite another owner."))
    if Membership.objects.filter(client=client, user__email__iexact=email).exists():
        raise Conflict(_("This person is already a member."))
    Invitation.objects.filter(client=client, email__iexact=email, accepted_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=timezone.now())
    invitation = Invitation.objects.create(
        client=client, email=email, role=role, invited_by=actor if getattr(actor, "pk", None) else None,
        expires_at=timezone.now() + INVITATION_TTL,
    )
    with tenant_context(client):
        audit_record(action="member.invited", actor=actor, target=email, data={"role": role})
    transaction.on_commit(lambda: _invitation_send(invitation))
    return invitation


def _invitation_send(invitation: Invitation) -> None:
    client = invitation.client
    with translation.override(client.default_language):
        context = {"client": client, "invitation": invitation,
                   "url": invitation_url(invitation)}
        subject = _("You are invited to %(client)s on Vocalia") % {"client": client.name}
        body = render_to_string("emails/invitation.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def invitation_accept(*, invitation: Invitation, user: Any = None, password: str = "") -> Any:
    """Accept an invitation as a signed-in user (same e-mail), or create the account with `password`."""
    if not invitation.is_pending:
        raise NotFound(_("This invitation has expired or was already used."))
    User = get_user_model()
    with transaction.atomic():
        if user is None or not user.is_authenticated:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise Conflict(_("An account already exists for this e-mail: sign in to accept."))
            user = User.objects.create_user(email=invitation.email, password=password,
                                            preferred_language=invitation.client.default_language)
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
        elif user.email.lower() != invitation.email.lower():
            raise PermissionDenied(_("This invitation was sent to another e-mail address."))
        try:
            Membership.objects.create(user=user, client=invitation.client, role=invitation.role)
        except IntegrityError:
            raise Conflict(_("This person is already a member.")) from None
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        with tenant_context(invitation.client):
            audit_record(action="member.joined", actor=user, target=user.email, data={"role": invitation.role})
    return user


def invitation_revoke(*, invitation: Invitation, actor: Any) -> None:
    _require_manager(client=invitation.client, actor=actor)
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        with tenant_context(invitation.client):
            audit_record(action="member.invitation_revoked", actor=actor, target=invitation.email)


def membership_set_role(*, membership: Membership, role: str, actor: Any) -> Membership:
    client = membership.client
    _require_manager(client=client, actor=actor)
    if role not in Membership.Role.values:
        raise InvalidInput(_("Unknown role."))
    if Membership.Role.OWNER in {role, membership.role}:
        _require_owner(client=client, actor=actor,
                       message=_("Only an owner can change an owner's role or make an owner."))
    with transaction.atomic():
        if membership.role == Membership.Role.OWNER and role != Membership.Role.OWNER:
            _keep_an_owner(client=client, leaving=membership)
        membership.role = role
        membership.save(update_fields=["role"])
        with tenant_context(client):
            audit_record(action="member.role_changed", actor=actor, target=membership.user.email,
                         data={"role": role})
    return membership


def membership_remove(*, membership: Membership, actor: Any) -> None:
    client = membership.client
    if membership.user_id != getattr(actor, "pk", None):
        _require_manager(client=client, actor=actor)
        if membership.role == Membership.Role.OWNER:
            _require_owner(client=client, actor=actor, message=_("Only an owner can remove an owner."))
    with transaction.atomic():
        if membership.role == Membership.Role.OWNER:
            _keep_an_owner(client=client, leaving=membership)
        email = membership.user.email
        membership.delete()
        with tenant_context(client):
            audit_record(action="member.removed", actor=actor, target=email)


def _keep_an_owner(*, client: Client, leaving: Membership) -> None:
    others = Membership.objects.select_for_update().filter(client=client, role=Membership.Role.OWNER)
    if not others.exclude(pk=leaving.pk).exists():
        raise Conflict(_("A client must keep at least one owner."))


# --- agency staff ------------------------------------------------------------------------------


def staff_access_link_create(*, client: Client, staff: Any, reason: str = "") -> str:
    """A signed, one-time, short-lived URL that opens `client`'s dashboard as `staff`."""
    if not getattr(staff, "is_staff", False):
        raise PermissionDenied()
    grant = StaffAccessGrant.objects.create(
        staff=staff, client=client, nonce=secrets.token_urlsafe(24), reason=reason[:200],
        expires_at=timezone.now() + settings.STAFF_ACCESS_LINK_TTL,
    )
    token = signing.dumps({"g": grant.pk, "n": grant.nonce}, salt=STAFF_ACCESS_SALT)
    return client_url(client, f"/staff-access/{token}/")


def staff_access_redeem(*, client: Client, token: str, ip: str | None) -> Any:
    """Validate and burn a staff access token for `client`; returns the staff user."""
    max_age = settings.STAFF_ACCESS_LINK_TTL.total_seconds()
    try:
        payload = signing.loads(token, salt=STAFF_ACCESS_SALT, max_age=max_age)
    except signing.BadSignature:
        raise PermissionDenied(_("This access link is invalid or has expired.")) from None
    with transaction.atomic():
        grant = (StaffAccessGrant.objects.select_for_update().select_related("staff")
                 .filter(pk=payload.get("g"), nonce=payload.get("n"), client=client).first())
        if grant is None or grant.used_at is not None or grant.expires_at <= timezone.now():
            raise PermissionDenied(_("This access link is invalid, expired or already used."))
        if not grant.staff.is_staff or not grant.staff.is_active:
            raise PermissionDenied()
        grant.used_at = timezone.now()
        grant.used_from_ip = ip
        grant.save(update_fields=["used_at", "used_from_ip"])
        with tenant_context(client):
            audit_record(action="staff.dashboard_opened", actor=grant.staff, target=client.slug,
                         data={"reason": grant.reason, "grant": grant.pk}, ip=ip)
    return grant.staff
