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


def register_ops_tiles() -> None:
    """Home tiles of the operations screen and device health (idempotent: replaced by key).

    Called when this URLconf is first imported (Django imports the URLconf before it renders
    any page, the home page included); ``SensorsConfig.ready()`` may call it too.
    """
    from django.utils.translation import gettext_lazy as _

    from jiayuan.web.home import register_tile

    roles = ("duty_officer", "neighbourhood_staff", "district_analyst", "admin")
    register_tile("sensors.ops", title=_("Operations screen"), url_name="sensors_ops:screen",
                  description=_("Live map of devices and alarms, the area's vital signs"),
                  roles=roles, order=15)
    register_tile("sensors.health", title=_("Device health"), url_name="sensors_ops:health",
                  description=_("One network of devices: healthy, silent, faulty"),
                  roles=roles, order=16)


register_ops_tiles()
