from django.urls import path

from jiayuan.index import views

app_name = "index"

urlpatterns = [
    path("index/", views.home, name="home"),
    path("index/compute/", views.compute, name="compute"),
    path("index/runs/<int:run_id>/", views.run_page, name="run"),
    path("index/import/", views.import_page, name="import"),
    path("index/map/", views.map_page, name="map"),
    path("index/map/scores.json", views.map_scores, name="map_scores"),
    path("index/compounds/<str:code>/", views.compound_page, name="compound"),
    path("index/diagnostics/", views.diagnostics_page, name="diagnostics"),
    path("index/export.xlsx", views.export, name="export"),
    path("index/report/", views.report, name="report"),
]
