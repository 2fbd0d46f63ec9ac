"""Notifications to a conversation's assigned member: live on their open dashboards, else an e-mail through the
messaging seam (a Delivery, sent by its Celery task), at most one a conversation every ten minutes."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.conversations.live import inbox_publish, member_online
from apps.conversations.models import Conversation
from apps.core.redis import get_redis, platform_key

EMAIL_EVERY_S = 600


def _email_allowed(schema: str, conversation_id: int, user_id: int) -> bool:
    key = platform_key("inbox-mail", schema, conversation_id, user_id)
    return bool(get_redis().set(key, 1, nx=True, ex=EMAIL_EVERY_S))


def assignee_notify(*, conversation: Conversation, user_id: int, reason: str, text: str = "") -> bool:
    """Tell the member (`reason`: "assigned" or "message"); True when an e-mail was queued."""
    schema = connection.schema_name
    inbox_publish(event="notify", conversation_id=conversation.pk, user=user_id, reason=reason)
    if member_online(schema=schema, user_id=user_id) or not _email_allowed(schema, conversation.pk, user_id):
        return False
    user = User.objects.filter(pk=user_id, is_active=True).first()
    client = getattr(connection, "tenant", None)
    if user is None or client is None or not user.email:
        return False
    from apps.clients.services import client_url
    from apps.messaging.services import message_send

    language = user.preferred_language or client.default_language
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        if reason == "assigned":
            subject = _("A conversation was assigned to you (%(client)s)") % {"client": client.name}
        else:
            subject = _("New message in a conversation assigned to you (%(client)s)") % {"client": client.name}
        lines = [subject, ""]
        if text:
            lines += [Truncator(text).chars(300), ""]
        lines += [_("Open it in the inbox:"), client_url(client, f"/inbox/{conversation.pk}/")]
    message_send(channel="email", to=user.email, subject=subject, body="\n".join(lines))
    return True
