from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    name = "jiayuan.sensors"
    label = "sensors"
    verbose_name = _("Sensors")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from jiayuan.sensors import signals

        signals.connect()
