from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "jiayuan.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # Periodic jobs (SLA sweep, revisit questionnaires) register with core.periodic.
        import jiayuan.cases.tasks  # noqa: F401
        from jiayuan.cases.urls_measures import register_measures_tile

        register_measures_tile()
        from jiayuan.web.home import register_tile

        staff = ("duty_officer", "neighbourhood_staff", "department_staff", "liaison", "admin")
        register_tile("cases.workbench", title=_("Case workbench"), url_name="cases:list",
                      description=_("Queues, filters and actions on the cases of your area"),
                      roles=staff, order=20)
        register_tile("cases.map", title=_("Live map of open cases"), url_name="cases:map",
                      description=_("Open cases coloured by overdue, warned, on time"),
                      roles=("duty_officer", "neighbourhood_staff", "admin"), order=21)
        register_tile("cases.calendar", title=_("Working calendar"), url_name="cases:calendar",
                      description=_("Holidays and make-up working days deadlines are counted "
                                    "with; load next year's State Council schedule"),
                      roles=("duty_officer", "admin"), order=29)
        register_tile("cases.notifications", title=_("Notifications"),
                      url_name="cases:notifications", roles=staff, order=22)
