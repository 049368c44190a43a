"""Periodic jobs of the sensors app (registered at start-up by ``SensorsConfig.ready()``):

* ``sensors.health`` every minute: silent devices → maintenance orders, recoveries close them;
* ``sensors.reconcile`` every minute: alarms left without a case (a worker died between its
  commit and opening the case) get their case.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from jiayuan.core.periodic import register

HEALTH_EVERY = timedelta(minutes=1)


@task()
def health_sweep() -> dict[str, int]:
    from jiayuan.sensors.services.maintenance import check_health

    return check_health(timezone.now())


@task()
def reconcile_alarms() -> int:
    from jiayuan.sensors.services.alarms import reconcile

    return reconcile(timezone.now())


register("sensors.health", every=HEALTH_EVERY, task=health_sweep)
register("sensors.reconcile", every=HEALTH_EVERY, task=reconcile_alarms)
