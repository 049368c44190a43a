"""Ingest against the REAL local Mosquitto (127.0.0.1:1883) and the test database.

Each test uses its own district code and shared-subscription group, so tests (and other
engineers' runs) never see each other's messages. Skipped when no broker listens.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from jiayuan.cases.models import Case, CaseEvent
from jiayuan.sensors.models import Alarm, AlarmState, Reading, RejectedMessage
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.simulator import malformed_samples, publisher
from jiayuan.sensors.tests.django_support import Clock, make_device, message
from jiayuan.sensors.worker import IngestWorker

URL = os.environ.get("JIAYUAN_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")


def _run_id() -> str:
    return f"{random.randrange(10**5):05d}"


def _publish_all(msgs: list[tuple[str, bytes]]) -> None:
    c = publisher(URL)
    infos = [c.publish(t, p, qos=1) for t, p in msgs]
    for info in infos:
        info.wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


@pytest.mark.django_db
def test_worker_stores_readings_raises_one_case_and_keeps_bad_messages_aside(tiny):
    rid = _run_id()
    district = "9" + rid  # unique per run: no other test's messages on these topics
    make_device(tiny, f"SHED-{rid}", "ebike_shed", district_code=district)
    clock = Clock()
    w = IngestWorker(URL, slot=0, group=f"t{rid}", district=district, batch_ms=50,
                     session_expiry_s=30, client_prefix="jiayuan-test",
                     pipeline=Pipeline())  # follow-ups in this thread: the test's transaction
    w.connect()
    assert w.subscribed.wait(5)
    code = f"SHED-{rid}"
    good = [message(code, clock.at(-700 + 10 * i), {"temperature_c": 24, "load_pct": 40},
                    msg_id=f"n{i}", district=district) for i in range(20)]
    hot = [message(code, clock.at(-400 + 10 * i), {"temperature_c": 62 + 0.1 * i,
                                                   "load_pct": 90},
                   msg_id=f"h{i}", district=district) for i in range(5)]
    bad = malformed_samples(district, code)
    _publish_all(good + bad + hot + good[:5])  # the last five again: a redelivery
    total = len(good) + len(bad) + len(hot) + 5
    stats = w.run(until=lambda: w.stats.received >= total, timeout_s=30)
    assert stats.received == total
    assert Reading.objects.filter(device__code=code).count() == len(good) + len(hot)
    assert stats.duplicates == 5
    reasons = set(RejectedMessage.objects.filter(device_code=code).values_list("reason",
                                                                              flat=True))
    assert reasons == {"not_json", "not_object", "missing_field", "timestamp_invalid",
                       "not_utf8"}
    alarms = Alarm.objects.filter(device__code=code, rule_id__endswith="hot_and_loaded")
    assert alarms.count() == 1
    assert alarms[0].state == AlarmState.ACTIVE
    assert Case.objects.filter(source_ref=f"sensors.alarm:{alarms[0].pk}").count() == 1


@pytest.mark.django_db
def test_persistence_rule_fires_and_clears_over_mqtt(tiny):
    rid = _run_id()
    district = "8" + rid
    code = f"WL-{rid}"
    make_device(tiny, code, "water_logging", district_code=district)
    clock = Clock()
    w = IngestWorker(URL, slot=0, group=f"t{rid}", district=district, batch_ms=50,
                     session_expiry_s=30, client_prefix="jiayuan-test",
                     pipeline=Pipeline())  # follow-ups in this thread: the test's transaction
    w.connect()
    assert w.subscribed.wait(5)
    steps = [(-600, 16), (-540, 18), (-480, 20), (-420, 10), (-360, 5)]
    _publish_all([message(code, clock.at(s), {"depth_cm": v}, msg_id=f"m{s}",
                          district=district) for s, v in steps])
    w.run(until=lambda: w.stats.received >= len(steps), timeout_s=20)
    alarm = Alarm.objects.get(device__code=code, rule_id__endswith="waterlogged")
    assert alarm.state == AlarmState.CLEARED  # 120 s above 15 cm, then below 12 cm
    assert CaseEvent.objects.filter(case=alarm.case, action="note").count() == 1


def _ingest(slot: int, group: str, district: str, env: dict[str, str],
            log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jiayuan.cli", "ingest", "--url", URL, "--slot", str(slot),
         "--group", group, "--district", district, "--batch", "500", "--batch-ms", "50",
         "--session-expiry", "300"],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait_connected(log: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().count(" connected (session") >= n:
            time.sleep(0.5)  # subscribed too
            return
        time.sleep(0.2)
    raise AssertionError("ingest workers did not connect: " + log.read_text()[-2000:])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_one_of_two_workers_loses_nothing_and_stores_nothing_twice(tiny, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker subprocesses need a database they can share: PostgreSQL")
    rid = _run_id()
    district = "7" + rid
    group = f"k{rid}"
    codes = [f"K{rid}-{i}" for i in range(20)]
    for code in codes:
        make_device(tiny, code, "crowd_counter", district_code=district)
    s = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "jiayuan.config.settings",
           "DATABASE_URL": f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:"
                           f"{s['PORT'] or 5432}/{s['NAME']}",
           "JIAYUAN_LOG_LEVEL": "WARNING"}
    log = tmp_path / "ingest.log"
    workers = [_ingest(0, group, district, env, log), _ingest(1, group, district, env, log)]
    try:
        _wait_connected(log, 2)
        n = 3000
        clock = Clock()
        c = publisher(URL)
        killed = restarted = False
        infos = []
        for i in range(n):
            code = codes[i % len(codes)]
            t, p = message(code, clock.at(-300 + i * 0.05), {"people": 100 + i % 50,
                                                              "density": 1.0},
                           msg_id=f"r{i}", district=district)
            infos.append(c.publish(t, p, qos=1))
            if i % 100 == 99:
                time.sleep(0.1)  # about 1,000 readings/s
            if i == n // 3 and not killed:
                os.kill(workers[1].pid, signal.SIGKILL)  # mid-stream, mid-batch
                workers[1].wait()
                killed = True
            if i == n // 2 and not restarted:
                workers[1] = _ingest(1, group, district, env, log)  # same slot, same session
                restarted = True
                _wait_connected(log, 3)
        for info in infos:
            info.wait_for_publish(20)
        c.disconnect()
        c.loop_stop()
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline:
            stored = Reading.objects.filter(device__code__in=codes).count()
            if stored >= n:
                break
            time.sleep(0.5)
        time.sleep(2)  # any late duplicate would show now
    finally:
        for p in workers:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)  # graceful: finish the batch, ack, checkpoint
        for p in workers:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    stored = Reading.objects.filter(device__code__in=codes).count()
    keys = Reading.objects.filter(device__code__in=codes).values("key").distinct().count()
    output = log.read_text()
    assert killed and restarted
    assert stored == n, output[-3000:]
    assert keys == n
    assert not RejectedMessage.objects.filter(device_code__in=codes).exists()
    # the restarted worker resumed the killed one's session (its unacked messages came back)
    assert "session present: True" in output, output[-3000:]
    assert output.count("stopped:") == 2, output[-3000:]  # both survivors stopped gracefully
    for p in workers:
        assert p.returncode == 0
