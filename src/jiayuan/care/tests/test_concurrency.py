"""Two signals about the same person at the same moment still give one open care task.

PostgreSQL only (SQLite serialises writers anyway): two threads, each in its own
transaction, record a signal for the same person; the row lock on the person and the partial
unique constraint leave exactly one open task with both triggers.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from jiayuan.care.models import CareSignal, CareTask
from jiayuan.care.services import record_signal, register_elder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_signals_open_one_task(tiny, make_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks)")
    staff = make_user("wang", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    elder = register_elder(by=staff, entrance=tiny.entrances["S1N1C1"],
                           data={"name": "张桂英", "birth_year": 1940})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            record_signal(person=elder, kind="no_activity" if i else "panic",
                          at=timezone.now(), source_ref=f"sensors.alarm:{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert CareSignal.objects.filter(elder=elder).count() == 2
    task = CareTask.objects.get(elder=elder)
    assert task.status == "open" and len(task.triggers) == 2 and task.priority == "urgent"
