"""URLs of the case-loop measures. The site includes them at the root, in the ``cases``
namespace's sibling ``case_measures``::

    path("", include("jiayuan.cases.urls_measures")),
"""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from jiayuan.cases import views_measures
from jiayuan.web.home import register_tile

app_name = "case_measures"

urlpatterns = [
    path("cases/measures/", views_measures.measures_page, name="page"),
    path("cases/measures/export.xlsx", views_measures.measures_export, name="export"),
]


def register_measures_tile() -> None:
    """The home tile for duty officers and analysts (and administrators)."""
    register_tile("cases.measures", title=_("Case measures"), url_name="case_measures:page",
                  description=_("Response, resolution and satisfaction rates, on-time closure, "
                                "rework and extension, by unit, neighbourhood and month"),
                  roles=("duty_officer", "district_analyst", "admin"), order=30)
