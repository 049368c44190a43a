"""Start-up wiring of the sensors app: case hooks and periodic jobs."""

from __future__ import annotations


def connect() -> None:
    from jiayuan.cases import hooks
    from jiayuan.sensors.services.alarms import on_alarm_case_event

    hooks.subscribe("sensors.alarm", on_alarm_case_event)
    import jiayuan.sensors.tasks  # noqa: F401  (registers the periodic jobs)
