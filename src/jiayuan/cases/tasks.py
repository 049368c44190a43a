"""Background work of the case loop, registered as periodic jobs of the worker.

Imported once at start-up (``CasesConfig.ready()``), which registers:

* ``cases.sla_sweep`` every minute: :func:`jiayuan.cases.sla.sweep` (warn, escalate, overdue);
* ``cases.revisit_questionnaires`` every hour: :func:`jiayuan.cases.sla.schedule_revisits`;
* ``cases.measures_refresh`` every minute and ``cases.measures_rebuild`` every day: the
  measures' roll-up (:mod:`jiayuan.cases.measures.rollup`; both lock its state row).

Both are safe to run in several workers at once (row locks with SKIP LOCKED, see sla.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from jiayuan.cases import sla
from jiayuan.core.periodic import register

SLA_EVERY = timedelta(minutes=1)
QUESTIONNAIRE_EVERY = timedelta(hours=1)
MEASURES_REFRESH_EVERY = timedelta(minutes=1)
MEASURES_REBUILD_EVERY = timedelta(days=1)


@task()
def sla_sweep() -> dict[str, int]:
    """One SLA sweep at the current time; returns its counts (stored with the task result)."""
    return sla.sweep(timezone.now()).as_dict()


@task()
def revisit_questionnaires() -> int:
    """Send the revisit questionnaire for every case closed long enough ago; returns how many."""
    return sla.schedule_revisits(timezone.now())


register("cases.sla_sweep", every=SLA_EVERY, task=sla_sweep)
register("cases.revisit_questionnaires", every=QUESTIONNAIRE_EVERY, task=revisit_questionnaires)


@task()
def measures_refresh() -> dict[str, float]:
    """Bring the measures' roll-up up to date with the cases changed since the last run."""
    from jiayuan.cases.measures import rollup

    result = rollup.refresh()
    return {"slices": result.slices, "cells": result.cells, "seconds": result.seconds}


@task()
def measures_rebuild() -> dict[str, float]:
    """Rebuild the measures' roll-up from scratch (the daily safety net)."""
    from jiayuan.cases.measures import rollup

    result = rollup.rebuild()
    return {"cells": result.cells, "seconds": result.seconds}


register("cases.measures_refresh", every=MEASURES_REFRESH_EVERY, task=measures_refresh)
register("cases.measures_rebuild", every=MEASURES_REBUILD_EVERY, task=measures_rebuild)
