"""Scheduling rules of the periodic-job registry the worker runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.core import periodic
from jiayuan.core.periodic import PeriodicJob, Scheduler

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class FakeTask:
    def __init__(self, fail: bool = False) -> None:
        self.enqueued = 0
        self.fail = fail

    def enqueue(self) -> object:
        if self.fail:
            raise RuntimeError("queue down")
        self.enqueued += 1
        return self.enqueued


def job(name: str = "sweep", minutes: int = 5, task: FakeTask | None = None) -> PeriodicJob:
    return PeriodicJob(name=name, every=timedelta(minutes=minutes), task=task or FakeTask())


def test_a_job_runs_when_the_worker_starts_and_then_once_per_interval():
    task = FakeTask()
    s = Scheduler([job(task=task)], start=T0)
    assert s.run_pending(T0) == ["sweep"]
    assert s.run_pending(T0 + timedelta(minutes=4, seconds=59)) == []
    assert s.run_pending(T0 + timedelta(minutes=5)) == ["sweep"]
    assert task.enqueued == 2


def test_a_long_pause_gives_one_run_not_a_burst_and_keeps_the_grid():
    task = FakeTask()
    s = Scheduler([job(task=task)], start=T0)
    s.run_pending(T0)
    assert s.run_pending(T0 + timedelta(minutes=47)) == ["sweep"]
    assert task.enqueued == 2
    assert s.next_at["sweep"] == T0 + timedelta(minutes=50)
    assert s.seconds_until_next(T0 + timedelta(minutes=47)) == 180


def test_a_failed_enqueue_is_skipped_and_other_jobs_still_run():
    good = FakeTask()
    s = Scheduler([job("bad", task=FakeTask(fail=True)), job("good", task=good)], start=T0)
    assert s.run_pending(T0) == ["good"]
    assert good.enqueued == 1


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="时区"):
        Scheduler([job()], start=datetime(2026, 1, 1))  # noqa: DTZ001
    s = Scheduler([job()], start=T0)
    with pytest.raises(ValueError):
        s.due(datetime(2026, 1, 1))  # noqa: DTZ001


def test_registry_refuses_bad_intervals_and_name_clashes():
    task = FakeTask()
    try:
        periodic.register("test.job", every=timedelta(minutes=1), task=task)
        # the same registration again is harmless (apps may be set up twice in tests)
        periodic.register("test.job", every=timedelta(minutes=1), task=task)
        with pytest.raises(ValueError, match="已注册"):
            periodic.register("test.job", every=timedelta(minutes=1), task=FakeTask())
        with pytest.raises(ValueError, match="大于零"):
            periodic.register("test.zero", every=timedelta(0), task=task)
        assert [j.name for j in periodic.registered() if j.name.startswith("test.")] == ["test.job"]
    finally:
        periodic.unregister("test.job")
    assert all(j.name != "test.job" for j in periodic.registered())


@given(every=st.integers(min_value=1, max_value=120),
       gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=60))
def test_runs_match_the_slots_reached(every, gaps):
    """Checking at arbitrary times never runs a job more than once per slot; checking at least
    once per interval runs it exactly once per slot."""
    task = FakeTask()
    s = Scheduler([job(task=task, minutes=every)], start=T0)
    now = T0
    s.run_pending(now)
    for gap in gaps:
        now += timedelta(minutes=gap)
        s.run_pending(now)
    slots = (now - T0) // timedelta(minutes=every) + 1
    assert task.enqueued <= slots
    if all(g <= every for g in gaps):
        assert task.enqueued == slots
