from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "apps.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        from apps.billing import webhooks  # noqa: F401  (dj-stripe's webhook signals → the client's plan and status)
