from django.urls import path

from jiayuan.sensors import views

app_name = "sensors"

urlpatterns = [
    path("sensors/", views.network, name="network"),
    path("sensors/alarms/<int:alarm_id>/acknowledge", views.acknowledge, name="acknowledge"),
    path("sensors/devices/import", views.import_devices, name="import"),
    path("sensors/rules/", views.rules_index, name="rules"),
    path("sensors/rules/<slug:kind>/", views.kind_rules, name="kind_rules"),
    path("sensors/rules/<slug:kind>/reset", views.kind_rules_reset, name="kind_rules_reset"),
    path("sensors/devices/<str:code>/rules/", views.device_rules, name="device_rules"),
    path("sensors/devices/<str:code>/rules/reset", views.device_rules_reset,
         name="device_rules_reset"),
]
