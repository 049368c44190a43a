"""A rule edited while a real ingest worker runs (REAL Mosquitto on 127.0.0.1:1883): the
worker's own loop picks the edit up within seconds, and the next reading is judged by it.

Own district code and shared-subscription group per run, as in test_mqtt_ingest. Skipped
when no broker listens."""

from __future__ import annotations

import time

import pytest

from jiayuan.sensors.models import Alarm
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.services import rule_config
from jiayuan.sensors.tests.django_support import Clock, make_device, message
from jiayuan.sensors.tests.test_mqtt_ingest import URL, _broker_up, _publish_all, _run_id
from jiayuan.sensors.worker import IngestWorker

pytestmark = pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883")


@pytest.mark.django_db
def test_threshold_edited_while_the_worker_runs_decides_the_next_alarm(tiny, make_user):
    rid = _run_id()
    district = "7" + rid
    code = f"SMK-{rid}"
    make_device(tiny, code, "smoke_detector", district_code=district)
    editor = make_user(f"duty-{rid}", "admin")
    clock = Clock()
    w = IngestWorker(URL, slot=0, group=f"t{rid}", district=district, batch_ms=50,
                     session_expiry_s=30, client_prefix="jiayuan-test",
                     pipeline=Pipeline())  # follow-ups in this thread: the test's transaction
    w.connect()
    assert w.subscribed.wait(5)
    _publish_all([message(code, clock.at(-60), {"temperature_c": 50}, msg_id="1",
                          district=district)])
    seen: dict[str, float] = {}

    def step() -> bool:
        """Called by the worker's loop after each batch: drive the scenario from inside."""
        if "edited" not in seen:
            if w.stats.received < 1:
                return False
            seen["alarms_before"] = Alarm.objects.filter(device__code=code).count()
            rule_config.set_kind_settings(
                "smoke_detector", {"rules": {"heat": {"threshold": 45}}}, user=editor)
            seen["edited"] = time.monotonic()
            return False
        if "reloaded" not in seen:
            if w.pipeline._rules_seen != rule_config.rules_version():
                return False
            seen["reloaded"] = time.monotonic()
            _publish_all([message(code, clock.at(-30), {"temperature_c": 50}, msg_id="2",
                                  district=district)])
            return False
        return bool(w.stats.received >= 2)

    w.run(until=step, timeout_s=40)
    assert seen["alarms_before"] == 0  # 50 °C was fine under the default 57 °C
    assert "reloaded" in seen, "the running worker never picked up the edit"
    assert seen["reloaded"] - seen["edited"] < 10  # within seconds, no restart
    alarm = Alarm.objects.get(device__code=code)
    assert alarm.rule_id == "smoke_detector.heat" and alarm.value == 50
