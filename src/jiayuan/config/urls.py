from django.contrib import admin
from django.urls import include, path

from jiayuan.config.api import api

admin.site.site_header = "家园 Jiayuan 后台"
admin.site.site_title = "家园 Jiayuan"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("open311/", include("jiayuan.open311.urls")),
    path("", include("jiayuan.cases.urls_measures")),  # before cases/<number>/
    path("", include("jiayuan.cases.urls")),
    path("", include("jiayuan.care.urls")),
    path("", include("jiayuan.sensors.urls_ops")),
    path("", include("jiayuan.council.urls")),
    path("", include("jiayuan.registry.urls")),
    path("", include("jiayuan.index.urls")),
    path("", include("jiayuan.sensors.urls")),
    path("", include("jiayuan.web.urls")),
]
