"""Background work of the index, run by the worker.

* :func:`execute_run` — one queued run (the "compute now" button enqueues it);
* :func:`scheduled_run` — the periodic job ``index.scheduled_run`` (every 30 days): a run of
  the current year, unless one is already queued or running.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from jiayuan.core.errors import ValidationFailed
from jiayuan.core.periodic import register

EVERY = timedelta(days=30)


@task()
def execute_run(run_id: int) -> str:
    from jiayuan.index.models import IndexRun
    from jiayuan.index.services.runs import execute

    run = IndexRun.objects.select_related("period").get(pk=run_id)
    if run.status != IndexRun.Status.QUEUED:
        return run.status
    return execute(run).status


@task()
def scheduled_run() -> str:
    from jiayuan.index.derive.base import SH
    from jiayuan.index.services.periods import get_or_create_period
    from jiayuan.index.services.runs import execute, request_run

    period = get_or_create_period(str(timezone.now().astimezone(SH).year))
    try:
        run = request_run(period, trigger="schedule", enqueue=False)
    except ValidationFailed as exc:
        return exc.message
    return execute(run).status


register("index.scheduled_run", every=EVERY, task=scheduled_run)
