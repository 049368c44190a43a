"""Periodic jobs: a registry that apps fill and a scheduler the worker runs.

An app registers its recurring work in ``AppConfig.ready()``::

    from jiayuan.core.periodic import register
    register("cases.sla_sweep", every=timedelta(minutes=5), task=sla_sweep)

where ``task`` is a django-tasks ``Task`` (anything with ``enqueue()``). ``jiayuan worker`` runs a
``Scheduler`` beside the database worker: each job is enqueued as soon as the worker starts and
then once per ``every``; runs missed while the worker was down are not caught up in a burst.
The task queue itself makes sure each enqueued job runs once, however many workers there are;
run the scheduler in one worker only (``jiayuan worker --no-scheduler`` for the others).

Pure: no Django import, so the scheduling rules are tested alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

logger = logging.getLogger(__name__)


class Enqueueable(Protocol):
    def enqueue(self) -> object: ...


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Enqueueable


_REGISTRY: dict[str, PeriodicJob] = {}


def register(name: str, *, every: timedelta, task: Enqueueable) -> PeriodicJob:
    """Add a job to the registry. Refuses a non-positive interval and a name already taken
    by another task (registering the same task again under its name is a no-op)."""
    if every <= timedelta(0):
        raise ValueError(f"周期任务“{name}”的间隔必须大于零")
    existing = _REGISTRY.get(name)
    if existing is not None:
        if existing.task is task and existing.every == every:
            return existing
        raise ValueError(f"周期任务“{name}”已注册")
    job = PeriodicJob(name=name, every=every, task=task)
    _REGISTRY[name] = job
    return job


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> list[PeriodicJob]:
    """The registered jobs, by name."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("调度时间必须带时区（timezone-aware）")
    return now


class Scheduler:
    """Decides which jobs are due; ``run_pending`` enqueues them."""

    def __init__(self, jobs: Iterable[PeriodicJob], *, start: datetime) -> None:
        _aware(start)
        self.jobs = list(jobs)
        self.next_at: dict[str, datetime] = {job.name: start for job in self.jobs}

    def due(self, now: datetime) -> list[PeriodicJob]:
        """Jobs due at ``now``; each one's next run moves to the first slot after ``now`` on
        its own grid (start + k × every), so a long pause yields one run, not a burst."""
        _aware(now)
        out: list[PeriodicJob] = []
        for job in self.jobs:
            at = self.next_at[job.name]
            if at <= now:
                out.append(job)
                steps = math.floor((now - at) / job.every) + 1
                self.next_at[job.name] = at + steps * job.every
        return out

    def run_pending(self, now: datetime) -> list[str]:
        """Enqueue the due jobs; a job whose enqueue fails is logged and tried at its next slot."""
        done: list[str] = []
        for job in self.due(now):
            try:
                job.task.enqueue()
            except Exception:
                logger.exception("could not enqueue periodic job %s", job.name)
                continue
            done.append(job.name)
        return done

    def seconds_until_next(self, now: datetime) -> float:
        """How long the scheduler may sleep (60 s when no job is registered)."""
        _aware(now)
        if not self.next_at:
            return 60.0
        return max(0.0, min((at - now).total_seconds() for at in self.next_at.values()))
