from django.urls import path

from jiayuan.sensors import views

app_name = "sensors"

urlpatterns = [
    path("sensors/", views.network, name="network"),
    path("sensors/alarms/<int:alarm_id>/acknowledge", views.acknowledge, name="acknowledge"),
    path("sensors/devices/import", views.import_devices, name="import"),
]
