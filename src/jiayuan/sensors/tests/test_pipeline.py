"""The ingest pipeline in process (no broker): readings, rejects, alarms → cases, health."""

from __future__ import annotations

import pytest

from jiayuan.cases.models import Case, CaseEvent
from jiayuan.sensors.models import (
    Alarm,
    AlarmState,
    Device,
    DeviceState,
    MaintenanceOrder,
    Reading,
    RejectedMessage,
)
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.services.alarms import acknowledge
from jiayuan.sensors.services.maintenance import check_health
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def shed(tiny):
    return make_device(tiny, "SHED-1", "ebike_shed", owner_unit="department:PS1",
                       address="测试路1号车棚")


def test_readings_are_stored_once_and_redelivery_stores_nothing(shed, clock):
    p = Pipeline(clock=clock)
    msgs = [message("SHED-1", clock.at(-60 + i), {"temperature_c": 20 + i, "load_pct": 10},
                    msg_id=f"m{i}") for i in range(5)]
    r1 = p.process(msgs)
    assert (r1.stored, r1.duplicates, r1.rejected) == (5, 0, 0)
    r2 = p.process(msgs[2:])  # QoS 1 redelivery
    assert (r2.stored, r2.duplicates) == (0, 3)
    assert Reading.objects.filter(device=shed).count() == 5
    p.checkpoint()
    shed.refresh_from_db()
    assert shed.last_heard_at is not None
    assert shed.last_metrics["temperature_c"] == 24
    assert DeviceState.objects.get(device=shed).data["device_code"] == "SHED-1"


def test_a_reading_is_stored_once_per_device_time_and_key_whatever_its_message_id(shed,
                                                                                  clock):
    # a message id may hold the characters the bulk write must escape (backslash); epoch
    # milliseconds and ISO times of the same instant are the same reading time
    p = Pipeline(clock=clock)
    at = clock.at(-30)
    ms = int(at.timestamp() * 1000)
    msgs = [message("SHED-1", at, {"temperature_c": 21}, msg_id="a\\b\\tc"),
            message("SHED-1", ms, {"temperature_c": 22}, msg_id="a\\b\\tc-2"),
            message("SHED-1", ms, {"temperature_c": 23})]  # no id: keyed by a digest
    assert p.process(msgs).stored == 3
    again = p.process(list(reversed(msgs)))
    assert (again.stored, again.duplicates) == (0, 3)
    rows = list(Reading.objects.filter(device=shed).order_by("id"))
    assert [r.key for r in rows][:2] == ["SHED-1:a\\b\\tc", "SHED-1:a\\b\\tc-2"]
    assert {r.at for r in rows} == {at}
    assert [r.metrics["temperature_c"] for r in rows] == [21, 22, 23]


def test_malformed_and_unknown_messages_are_kept_aside_and_counted(shed, clock):
    p = Pipeline(clock=clock)
    good = message("SHED-1", clock.at(-5), {"temperature_c": 20}, msg_id="ok")
    bad_json = ("jiayuan/310115/devices/SHED-1/readings", b"{not json")
    res = p.process([good, bad_json, bad_json,
                     ("jiayuan/oops/readings", b"{}"),
                     message("SHED-1", clock.at(-5), {"temperature_c": float("nan")}),
                     message("GHOST-9", clock.at(-5), {"x": 1}, msg_id="g"),
                     message("SHED-1", clock.at(-5), {"temperature_c": 1}, msg_id="d",
                             district="310116")])
    assert res.stored == 1 and res.rejected == 6
    reasons = dict(RejectedMessage.objects.values_list("reason", "count"))
    assert reasons["not_json"] == 2  # the same bad message twice: one row, counted
    assert reasons["topic_invalid"] == 1
    assert reasons["unknown_device"] == 1
    assert reasons["district_mismatch"] == 1
    assert "not_json" in reasons and sum(reasons.values()) == 6
    # again: counted on the same rows, nothing else stored
    p.process([bad_json])
    assert RejectedMessage.objects.get(reason="not_json").count == 3
    assert Reading.objects.count() == 1


def test_composite_shed_alarm_opens_exactly_one_case_and_clear_is_noted(shed, clock):
    p = Pipeline(clock=clock)
    p.process([message("SHED-1", clock.at(-700), {"temperature_c": 62, "load_pct": 50},
                       msg_id="a")])
    assert not Alarm.objects.exists()  # warm but not loaded
    res = p.process([message("SHED-1", clock.at(-600), {"temperature_c": 65, "load_pct": 90},
                             msg_id="b")])
    alarm = Alarm.objects.get(rule_id__endswith="hot_and_loaded")
    assert res.raised == [alarm.pk]
    assert alarm.state == AlarmState.ACTIVE and alarm.case is not None
    case = alarm.case
    assert case.channel == "sensor" and case.source_ref == f"sensors.alarm:{alarm.pk}"
    assert case.category.code == "S-fire"
    assert case.entrance_id == shed.entrance_id
    assert (case.due_at - case.reported_at).total_seconds() == 15 * 60
    # further breaches and a redelivery: no second alarm, no second case
    p.process([message("SHED-1", clock.at(-500), {"temperature_c": 66, "load_pct": 95},
                       msg_id="c"),
               message("SHED-1", clock.at(-600), {"temperature_c": 65, "load_pct": 90},
                       msg_id="b")])
    assert Alarm.objects.filter(rule_id__endswith="hot_and_loaded").count() == 1
    assert Case.objects.filter(source_ref__startswith="sensors.alarm:").count() == 1
    # the load drops: the composite clears (hysteresis 5) and the case gets a note
    p.process([message("SHED-1", clock.at(-400), {"temperature_c": 50, "load_pct": 40},
                       msg_id="d")])
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED and alarm.cleared_at is not None
    note = CaseEvent.objects.get(case=case, action="note")
    assert "报警已解除" in note.reason and "未被确认" in note.reason
    assert Case.objects.filter(source_ref__startswith="sensors.alarm:").count() == 1


def test_threshold_raise_and_clear_with_hysteresis(tiny, clock):
    make_device(tiny, "GAS-1", "gas_detector")
    p = Pipeline(clock=clock)
    p.process([message("GAS-1", clock.at(-50), {"gas_lel_pct": 26}, msg_id="1")])
    alarm = Alarm.objects.get(rule_id__endswith="gas_high")
    assert alarm.severity and alarm.case.category.code == "S-gas"
    p.process([message("GAS-1", clock.at(-40), {"gas_lel_pct": 22}, msg_id="2")])
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.ACTIVE  # 22 > 25 - 5: still breached
    p.process([message("GAS-1", clock.at(-30), {"gas_lel_pct": 19}, msg_id="3")])
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED


def test_persistence_needs_the_condition_to_last(tiny, clock):
    make_device(tiny, "WL-1", "water_logging")
    p = Pipeline(clock=clock)
    p.process([message("WL-1", clock.at(-300), {"depth_cm": 16}, msg_id="1")])
    p.process([message("WL-1", clock.at(-250), {"depth_cm": 17}, msg_id="2")])
    assert not Alarm.objects.filter(rule_id__endswith="waterlogged").exists()
    p.process([message("WL-1", clock.at(-170), {"depth_cm": 17}, msg_id="3")])
    alarm = Alarm.objects.get(rule_id__endswith="waterlogged")
    assert alarm.case.category.code == "S-flood"
    # a short spike on another gauge does nothing
    make_device(tiny, "WL-2", "water_logging")
    p.process([message("WL-2", clock.at(-300), {"depth_cm": 20}, msg_id="1"),
               message("WL-2", clock.at(-250), {"depth_cm": 2}, msg_id="2")])
    assert not Alarm.objects.filter(device__code="WL-2").exists()


def test_acknowledge_then_clear_keeps_both(shed, clock, make_user):
    p = Pipeline(clock=clock)
    p.process([message("SHED-1", clock.at(-20), {"temperature_c": 75}, msg_id="1")])
    alarm = Alarm.objects.get(rule_id__endswith="overheat")
    officer = make_user("duty1", "duty_officer", "310115001")
    outsider = make_user("duty2", "duty_officer", "310115002")
    from jiayuan.core.errors import InvalidTransition, OutOfScope

    with pytest.raises(OutOfScope):
        acknowledge(alarm.pk, user=outsider)
    acknowledge(alarm.pk, user=officer)
    with pytest.raises(InvalidTransition):
        acknowledge(alarm.pk, user=officer)
    p.process([message("SHED-1", clock.at(-10), {"temperature_c": 30}, msg_id="2")])
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED and alarm.acknowledged
    note = CaseEvent.objects.get(case=alarm.case, action="note")
    assert "未被确认" not in note.reason


def test_silent_device_opens_one_order_and_recovery_closes_it(shed, clock):
    p = Pipeline(clock=clock)
    p.process([message("SHED-1", clock.at(-30), {"temperature_c": 20}, msg_id="1")])
    p.checkpoint()
    check_health(clock.at(500))  # 300 s interval: 2x = 600 s not yet passed
    assert not MaintenanceOrder.objects.exists()
    check_health(clock.at(700))
    check_health(clock.at(800))
    order = MaintenanceOrder.objects.get()
    assert order.reason == "silence" and order.state == "open"
    assert order.owner_unit == "department:PS1" and order.path == shed.path
    assert Device.objects.get(pk=shed.pk).silent
    clock.advance_to(900)
    p.process([message("SHED-1", clock.at(890), {"temperature_c": 21}, msg_id="2")])
    p.checkpoint()
    check_health(clock.at(910))
    order.refresh_from_db()
    assert order.state == "closed" and "恢复" in order.closed_note
    assert not Device.objects.get(pk=shed.pk).silent


def test_impossible_value_opens_fault_order_not_alarm(shed, clock):
    p = Pipeline(clock=clock)
    p.process([message("SHED-1", clock.at(-20), {"temperature_c": 900}, msg_id="1")])
    assert not Alarm.objects.exists()
    order = MaintenanceOrder.objects.get()
    assert order.reason == "fault"
    p.process([message("SHED-1", clock.at(-10), {"temperature_c": 20}, msg_id="2")])
    order.refresh_from_db()
    assert order.state == "closed"


def test_restart_rebuilds_state_from_checkpoint_and_stored_readings(tiny, clock):
    make_device(tiny, "WL-3", "water_logging")
    p = Pipeline(clock=clock)
    p.process([message("WL-3", clock.at(-300), {"depth_cm": 16}, msg_id="1")])
    p.checkpoint()
    p.process([message("WL-3", clock.at(-250), {"depth_cm": 17}, msg_id="2")])
    # killed here: no checkpoint after "2". A new worker continues.
    p2 = Pipeline(clock=clock)
    p2.process([message("WL-3", clock.at(-170), {"depth_cm": 17}, msg_id="3")])
    assert Alarm.objects.filter(rule_id__endswith="waterlogged").count() == 1


def test_a_failed_commit_changes_nothing_and_the_same_batch_can_run_again(tiny, clock,
                                                                           monkeypatch):
    from django.db import OperationalError

    make_device(tiny, "GAS-9", "gas_detector")
    p = Pipeline(clock=clock)
    batch = [message("GAS-9", clock.at(-10), {"gas_lel_pct": 30}, msg_id="1")]
    real = Pipeline._insert_readings

    def deadlock(self, rows, now):
        real(self, rows, now)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(Pipeline, "_insert_readings", deadlock)
    with pytest.raises(OperationalError):
        p.process(batch)
    assert not Reading.objects.exists() and not Alarm.objects.exists()
    monkeypatch.setattr(Pipeline, "_insert_readings", real)
    res = p.process(batch)  # not acknowledged, so the broker gives it again
    assert res.stored == 1
    assert Alarm.objects.filter(rule_id__endswith="gas_high").count() == 1


def test_nul_characters_in_bad_messages_are_kept_aside_safely(shed, clock):
    p = Pipeline(clock=clock)
    topic = "jiayuan/310115/devices/SHED-1/readings"
    res = p.process([
        (topic, b'{"device":"SHED-1\x00", "oops'),
        (topic, b'{"device":"SHED-1","ts":"%s","metrics":{"a\\u0000b":1}}'
         % clock.at(-5).isoformat().encode()),
    ])
    assert res.rejected == 2
    reasons = set(RejectedMessage.objects.values_list("reason", flat=True))
    assert reasons == {"not_json", "metrics_invalid"}
    assert "\x00" not in "".join(RejectedMessage.objects.values_list("payload", flat=True))
