"""Start-up wiring of the sensors app: case hooks and periodic jobs."""

from __future__ import annotations


def connect() -> None:
    from jiayuan.cases import hooks
    from jiayuan.sensors.services.alarms import on_alarm_case_event

    hooks.subscribe("sensors.alarm", on_alarm_case_event)
    import jiayuan.sensors.tasks  # noqa: F401  (registers the periodic jobs)

    register_tiles()


def register_tiles() -> None:
    from django.utils.translation import gettext_lazy as _

    from jiayuan.web.home import register_tile

    register_tile("sensors.network", title=_("Network of devices"), url_name="sensors:network",
                  description=_("Device health, active alarms and maintenance orders of your "
                                "area"),
                  roles=("duty_officer", "neighbourhood_staff", "department_staff", "admin"),
                  order=40)
