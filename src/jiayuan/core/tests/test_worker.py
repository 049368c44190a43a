"""The worker command runs queued tasks, and its scheduler enqueues registered periodic jobs."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks import task

from jiayuan.core import periodic

RAN: list[str] = []


@task()
def record_run() -> None:
    RAN.append("ran")


@pytest.mark.django_db(transaction=True)
def test_worker_enqueues_a_registered_periodic_job_and_runs_it(monkeypatch):
    RAN.clear()
    # Only this job: the apps' own jobs (SLA sweep …) would otherwise be queued first.
    monkeypatch.setattr(periodic, "_REGISTRY", {})
    periodic.register("test.record_run", every=timedelta(hours=1), task=record_run)
    try:
        out = StringIO()
        call_command("worker", max_tasks=1, interval=0.1, stdout=out)
    finally:
        periodic.unregister("test.record_run")
    assert RAN == ["ran"]
    assert "test.record_run" in out.getvalue()
