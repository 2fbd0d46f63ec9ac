from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "apps.clients"
    label = "clients"

    def ready(self) -> None:
        from apps.clients import signals  # noqa: F401  (cache invalidation)
