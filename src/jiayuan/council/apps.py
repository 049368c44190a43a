from datetime import timedelta

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilConfig(AppConfig):
    name = "jiayuan.council"
    label = "council"
    verbose_name = _("Councils")

    def ready(self) -> None:
        from jiayuan.cases import hooks
        from jiayuan.core.periodic import register
        from jiayuan.council import tasks
        from jiayuan.council.services.escalation import on_case_event
        from jiayuan.web.home import register_tile

        hooks.subscribe("council.topic", on_case_event)
        register("council.mention_digest", every=timedelta(hours=1), task=tasks.mention_digest)
        register_tile("council.home", title=_("Neighbourhood councils"), url_name="council:index",
                      description=_("Topics, the three meetings, consultations and projects"),
                      roles=("neighbourhood_staff", "liaison", "department_staff", "deputy",
                             "duty_officer", "property_company", "admin"), order=40)
