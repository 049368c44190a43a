"""How the pipeline stores readings: straight COPY, and the fallback when some of a batch
are stored already (QoS 1 redelivery) — each reading stored once either way."""

from __future__ import annotations

import pytest
from django.db import connection

from jiayuan.sensors.models import Reading
from jiayuan.sensors.pipeline import Pipeline, pg_time
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    return Clock()


def test_a_batch_mixing_redelivered_and_new_readings_stores_each_once(tiny, clock):
    make_device(tiny, "WL-1", "water_logging")
    p = Pipeline(clock=clock)
    msgs = [message("WL-1", clock.at(-100 + i), {"depth_cm": i}, msg_id=f"m{i}")
            for i in range(6)]
    first = p.process(msgs[:3])
    assert (first.stored, first.duplicates) == (3, 0)
    # a redelivery of two stored readings arrives with three new ones, one of them twice
    again = p.process([msgs[1], msgs[3], msgs[2], msgs[4], msgs[5], msgs[4]])
    assert (again.stored, again.duplicates) == (3, 3)
    keys = list(Reading.objects.filter(device__code="WL-1").values_list("key", flat=True))
    assert sorted(keys) == [f"WL-1:m{i}" for i in range(6)]
    # and the batch after the fallback is stored the straight way again
    assert p.process([message("WL-1", clock.at(-10), {"depth_cm": 1}, msg_id="z")]).stored == 1


def test_reading_times_are_stored_to_the_microsecond_given(tiny, clock):
    make_device(tiny, "WL-2", "water_logging")
    p = Pipeline(clock=clock)
    ms = int(clock.at(-50).timestamp() * 1000) + 7
    iso = clock.at(-40).replace(microsecond=123456)
    p.process([message("WL-2", ms, {"depth_cm": 1}, msg_id="a"),
               message("WL-2", iso, {"depth_cm": 2}, msg_id="b")])
    got = dict(Reading.objects.filter(device__code="WL-2").values_list("key", "at"))
    assert got["WL-2:a"].timestamp() * 1000 == pytest.approx(ms, abs=1e-3)
    assert got["WL-2:b"] == iso


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's to_timestamp")
def test_copy_time_text_is_what_to_timestamp_gives():
    # a reading stored by either write path (or by an older worker) has the same time
    epochs = [1764000000.1234565, 1764000000.9999996, 1764000000.0000005, 946684800.0000005,
              1.5, 1764998123.457, 1765000000.0]
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM unnest(%s::float8[], %s::text[]) AS u(e, t) "
                    "WHERE to_timestamp(u.e) <> u.t::timestamptz",
                    [epochs, [pg_time(e) for e in epochs]])
        assert cur.fetchone()[0] == 0
