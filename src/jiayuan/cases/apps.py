from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "jiayuan.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # Periodic jobs (SLA sweep, revisit questionnaires) register with core.periodic.
        import jiayuan.cases.tasks  # noqa: F401
