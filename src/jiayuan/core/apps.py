from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Process commands (serve, worker) and shared pieces; no models."""

    name = "jiayuan.core"
    label = "core"
