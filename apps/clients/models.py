"""Clients (tenants), their domains, plans, keys and people. All in the public schema."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from encrypted_model_fields.fields import EncryptedCharField


class Plan(models.Model):
    """A plan is data: features it unlocks and quotas it grants (seed: audit §3.3)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    monthly_price_eur = models.DecimalField(_("monthly price (EUR)"), max_digits=8, decimal_places=2, default=0)
    features = models.JSONField(_("features"), default=list, blank=True)
    requests_per_minute = models.PositiveIntegerField(_("requests per minute"), default=20)
    monthly_conversations = models.PositiveIntegerField(_("conversations per month"), default=500)
    voice_minutes = models.PositiveIntegerField(_("voice minutes per month"), default=0)
    concurrent_calls = models.PositiveSmallIntegerField(_("simultaneous phone calls"), default=2)
    knowledge_documents = models.PositiveIntegerField(_("knowledge-base documents"), default=20)
    allowed_origins = models.PositiveIntegerField(_("allowed website domains"), default=1)
    # Billing (docs/billing.md): what the monthly fee includes, the price of what goes beyond, the trial.
    included_messages = models.PositiveIntegerField(_("messages included per month"), default=0)
    chat_turns = models.PositiveIntegerField(_("chat replies included per month"), default=0)
    overage_minute_eur = models.DecimalField(_("price per extra voice minute"), max_digits=10, decimal_places=4,
                                             default=0)
    overage_message_eur = models.DecimalField(_("price per extra message"), max_digits=10, decimal_places=4,
                                              default=0)
    overage_chat_turn_eur = models.DecimalField(_("price per extra chat reply"), max_digits=10, decimal_places=4,
                                                default=0)
    trial_days = models.PositiveSmallIntegerField(_("trial days"), default=0)
    trial_minutes = models.PositiveIntegerField(_("trial minutes"), default=0)
    stripe_product_id = models.CharField(_("Stripe product id"), max_length=64, blank=True)
    stripe_price_id = models.CharField(_("Stripe price id"), max_length=64, blank=True)
    is_public = models.BooleanField(_("offered at sign-up"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class Client(TenantMixin):
    class Status(models.TextChoices):
        PROVISIONING = "provisioning", _("Provisioning")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROVISIONING)
    status_detail = models.TextField(_("status detail"), blank=True)
    provisioning_step = models.CharField(_("provisioning step"), max_length=40, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="clients", verbose_name=_("plan"))
    default_language = models.CharField(_("default language"), max_length=8, default="fr")
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    sector = models.CharField(_("sector"), max_length=40, blank=True)
    owner_email = models.EmailField(_("owner's e-mail"), blank=True)
    created = models.DateTimeField(_("created"), default=dj_timezone.now)

    # Schemas are cloned by apps.clients.provisioning, in a Celery task, never on save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def email(self) -> str:
        """dj-stripe links a Stripe customer to its subscriber (the client) and asks for an e-mail address."""
        return self.owner_email


class Domain(DomainMixin):
    created = models.DateTimeField(_("created"), default=dj_timezone.now)

    class Meta:
        verbose_name = _("domain")
        verbose_name_plural = _("domains")


class ApiKey(models.Model):
    """A publishable widget key (`pk_…`, public) or a secret API key (`sk_…`, stored hashed).

    `lookup` is the visible part used to find the row (the whole key for `pk_`,
    `sk_<12 chars>` for a secret key); the secret part is only ever stored as an HMAC.
    """

    class Kind(models.TextChoices):
        PUBLISHABLE = "publishable", _("Publishable (widget)")
        SECRET = "secret", _("Secret (API)")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("client"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    lookup = models.CharField(_("key id"), max_length=64, unique=True)
    secret_hash = models.CharField(max_length=128, blank=True)
    # A secret key made by provisioning waits here, encrypted, until an owner reveals it once.
    reveal_once = EncryptedCharField(max_length=128, blank=True, default="")
    label = models.CharField(_("label"), max_length=80, blank=True)
    created = models.DateTimeField(_("created"), default=dj_timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return self.lookup if self.kind == self.Kind.PUBLISHABLE else f"{self.lookup}_••••"

    def is_valid_at(self, moment: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= moment:
            return False
        return self.expires_at is None or self.expires_at > moment


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("client"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(_("created"), default=dj_timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="membership_unique_user_client")]
        ordering = ["client", "user__email"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.client} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}


class Invitation(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("client"))
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), default=dj_timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.client}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > dj_timezone.now()


class StaffAccessGrant(models.Model):
    """A signed one-time link letting one staff member open one client's dashboard (audited)."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="staff_grants")
    nonce = models.CharField(max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_from_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("staff access grant")
        verbose_name_plural = _("staff access grants")
