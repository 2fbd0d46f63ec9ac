from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "apps.outbound"
    label = "outbound"

    def ready(self) -> None:
        from apps.outbound import signals  # noqa: F401
