from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientsConfig(AppConfig):
    name = "apps.clients"
    label = "clients"
    verbose_name = _("Clients")  # the agency admin's first section and its breadcrumbs

    def ready(self) -> None:
        from apps.clients import signals  # noqa: F401  (cache invalidation)
