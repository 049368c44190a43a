"""``jiayuan worker [--no-scheduler]``: the background worker.

Runs django-tasks' database worker (``db_worker``) in the foreground and, unless
``--no-scheduler``, a thread that enqueues the registered periodic jobs on schedule
(``jiayuan.core.periodic``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from jiayuan.core.periodic import Scheduler, registered


def _scheduler_loop(stop: threading.Event, scheduler: Scheduler) -> None:
    while not stop.is_set():
        now = datetime.now(UTC)
        close_old_connections()
        scheduler.run_pending(now)
        stop.wait(min(30.0, max(0.5, scheduler.seconds_until_next(datetime.now(UTC)))))


class Command(BaseCommand):
    help = "Run the background worker (django-tasks database worker) and the periodic jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-scheduler", action="store_true",
                            help="do not enqueue periodic jobs (run the scheduler in one worker)")
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--max-tasks", type=int, default=None)

    def handle(self, *args: Any, no_scheduler: bool, queue_name: str, interval: float,
               max_tasks: int | None, **options: Any) -> None:
        stop = threading.Event()
        if not no_scheduler:
            jobs = registered()
            self.stdout.write(f"periodic jobs: {', '.join(j.name for j in jobs) or '(none)'}")
            thread = threading.Thread(
                target=_scheduler_loop, args=(stop, Scheduler(jobs, start=datetime.now(UTC))),
                name="jiayuan-scheduler", daemon=True)
            thread.start()
        try:
            kwargs: dict[str, Any] = {"queue_name": queue_name, "interval": interval,
                                      "reload": False, "verbosity": options.get("verbosity", 1)}
            if max_tasks is not None:
                kwargs["max_tasks"] = max_tasks
            call_command("db_worker", **kwargs)
        finally:
            stop.set()
