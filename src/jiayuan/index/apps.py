from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndexConfig(AppConfig):
    name = "jiayuan.index"
    label = "index"
    verbose_name = _("Governance index")

    def ready(self) -> None:
        import jiayuan.index.tasks  # noqa: F401  (registers the periodic job)
        from jiayuan.web.home import register_tile

        register_tile("index.ranking", title=_("Governance index"), url_name="index:home",
                      description=_("Scores and ranks of compounds within their type, map, "
                                    "diagnostics and export"),
                      roles=("district_analyst", "duty_officer", "neighbourhood_staff",
                             "admin"), order=40)
