from django.urls import path

from jiayuan.sensors import views_ops

app_name = "sensors_ops"

urlpatterns = [
    path("ops/", views_ops.ops_screen, name="screen"),
    path("ops/vitals/", views_ops.ops_vitals, name="vitals"),
    path("ops/vitals.json", views_ops.ops_vitals_json, name="vitals_json"),
    path("ops/map.geojson", views_ops.ops_geojson, name="geojson"),
    path("ops/devices/health/", views_ops.device_health, name="health"),
]
