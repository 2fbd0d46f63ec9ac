from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "apps.integrations"
    label = "integrations"

    def ready(self) -> None:
        from apps.integrations import checks  # noqa: F401 - registers the encryption canary check
