from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "jiayuan.care"
    label = "care"
    verbose_name = _("Care for elderly people living alone")

    def ready(self) -> None:
        import jiayuan.care.tasks  # noqa: F401  (registers the periodic job)
        from jiayuan.care import sensors_bridge

        sensors_bridge.connect()
        from jiayuan.web.home import register_tile

        register_tile("care.register", title=_("Elderly living alone"), url_name="care:list",
                      description=_("Register, risk levels, visits and care tasks"),
                      roles=("neighbourhood_staff", "duty_officer", "admin"), order=40)
        register_tile("care.my_visits", title=_("My visits this week"),
                      url_name="care:my_visits", roles=("neighbourhood_staff",), order=41)
