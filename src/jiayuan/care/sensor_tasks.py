"""``care.sensor_sweep`` every minute: sensor alarms at registered homes → care signals
(see ``care.sensors_bridge``). Imported only when the sensors app is installed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from jiayuan.core.periodic import register

SWEEP_EVERY = timedelta(minutes=1)


@task()
def sensor_sweep() -> int:
    from jiayuan.care.sensors_bridge import sweep

    return sweep(timezone.now())


register("care.sensor_sweep", every=SWEEP_EVERY, task=sensor_sweep)
