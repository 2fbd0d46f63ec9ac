"""What happened in a client's account, who did it. Append-only, in the client's own schema."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "client.provisioned": _("Account set up"),
    "client.suspended": _("Account suspended"),
    "client.reactivated": _("Account reactivated"),
    "key.secret_rotated": _("New secret key"),
    "key.publishable_rotated": _("New widget key"),
    "key.revoked": _("Key revoked"),
    "key.secret_revealed": _("Secret key revealed"),
    "member.invited": _("Invitation sent"),
    "member.joined": _("Member joined"),
    "member.invitation_revoked": _("Invitation withdrawn"),
    "member.role_changed": _("Role changed"),
    "member.removed": _("Member removed"),
    "staff.dashboard_opened": _("Agency staff opened the dashboard"),
    "integration.connected": _("Integration connected"),
    "integration.disconnected": _("Integration removed"),
    "integration.test_sent": _("Test e-mail sent"),
    "conversation.assigned": _("Conversation assigned"),
    "conversation.status_changed": _("Conversation status changed"),
    "conversation.taken_over": _("Conversation taken over"),
    "conversation.handed_back": _("Conversation handed back to the agent"),
    "conversation.replied": _("Reply sent from the inbox"),
    "conversation.note_added": _("Private note added"),
}


class AuditEvent(models.Model):
    action = models.CharField(_("action"), max_length=64, db_index=True)
    actor_email = models.CharField(_("actor"), max_length=254, blank=True)
    actor_is_staff = models.BooleanField(_("agency staff"), default=False)
    target = models.CharField(_("target"), max_length=200, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.action} {self.actor_email}"

    @property
    def label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
