from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "apps.telephony"
    label = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        from apps.telephony import signals  # noqa: F401  (routing cache invalidation)
