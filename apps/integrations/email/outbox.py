from django.utils.translation import gettext_lazy as _

from apps.integrations.outbound import OutboxTwin


class OutboxEmail(OutboxTwin):
    label = _("Outbox (offline: kept here, not sent)")
