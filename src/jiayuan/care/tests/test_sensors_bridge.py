"""Sensor alarms reach the care register: direct call, case hooks, and the sweep — once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jiayuan.care.models import CareSignal, CareTask
from jiayuan.care.sensors_bridge import record_alarm, signal_for, sweep
from jiayuan.cases.services import open_case
from jiayuan.cases.services.notes import add_note
from jiayuan.sensors.models import Alarm
from jiayuan.sensors.services.devices import register_device

pytestmark = pytest.mark.django_db


def _device(tiny, code, kind, key="S1N1C1"):
    d, _ = register_device({"code": code, "kind": kind, "entrance": tiny.entrances[key].code})
    return d


def _alarm(device, rule, **kw):
    return Alarm.objects.create(device=device, rule_id=rule, title=rule, severity="Severe",
                                message="测试", raised_at=kw.pop("raised_at", timezone.now()),
                                path=device.path, **kw)


def test_the_signal_table_maps_alarm_rules_to_care_signals():
    assert signal_for("panic_button", "pressed") == "panic"
    assert signal_for("door_sensor", "no_activity") == "no_activity"
    assert signal_for("door_sensor", "battery_low") is None
    assert signal_for("hydrant_pressure", "low_pressure") is None


def test_direct_call_then_hook_then_sweep_record_a_panic_once(
        tiny, elder, django_capture_on_commit_callbacks):
    alarm = _alarm(_device(tiny, "PB-1", "panic_button"), "pressed")
    assert record_alarm(alarm)[0].task_created
    case, _ = open_case(channel="sensor", description="紧急呼叫", entrance=alarm.device.entrance,
                        source_ref=f"sensors.alarm:{alarm.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        add_note(case, text="已电话联系")
    assert sweep(timezone.now()) == 0
    assert CareSignal.objects.filter(elder=elder).count() == 1
    assert CareTask.objects.get(elder=elder).priority == "urgent"


def test_the_sweep_picks_up_unrecorded_alarms_and_clears(tiny, elder):
    door = _device(tiny, "DOOR-7", "door_sensor")
    alarm = _alarm(door, "no_activity")
    _alarm(_device(tiny, "PB-OLD", "panic_button"), "pressed",
           raised_at=timezone.now() - dt.timedelta(days=3))  # too old for the sweep
    assert sweep(timezone.now()) == 1
    assert sweep(timezone.now()) == 0
    elder.refresh_from_db()
    assert elder.active_signals == ["no_activity"] and elder.risk_level == "high"
    Alarm.objects.filter(pk=alarm.pk).update(state="cleared", cleared_at=timezone.now())
    assert sweep(timezone.now()) == 1
    elder.refresh_from_db()
    assert elder.active_signals == [] and elder.last_activity_at is not None
    assert CareTask.objects.filter(elder=elder).count() == 1


def test_a_clearing_note_on_the_case_is_heard_through_the_hook(
        tiny, elder, django_capture_on_commit_callbacks):
    alarm = _alarm(_device(tiny, "DOOR-9", "door_sensor"), "no_activity")
    record_alarm(alarm)
    case, _ = open_case(channel="sensor", description="无活动", entrance=alarm.device.entrance,
                        source_ref=f"sensors.alarm:{alarm.pk}")
    Alarm.objects.filter(pk=alarm.pk).update(state="cleared", cleared_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        add_note(case, text="报警已解除")
    elder.refresh_from_db()
    assert elder.active_signals == []


def test_alarms_that_are_not_care_signals_or_not_at_a_registered_home_do_nothing(tiny, elder):
    _alarm(_device(tiny, "DOOR-8", "door_sensor"), "battery_low")
    _alarm(_device(tiny, "PB-9", "panic_button", key="S1N2C1"), "pressed")
    assert sweep(timezone.now()) == 0
    assert not CareSignal.objects.exists() and not CareTask.objects.exists()


def test_a_raised_alarm_reaches_the_register_as_the_ingest_follows_it_up(tiny, elder):
    from jiayuan.sensors.services.alarms import FollowUp, follow_up

    alarm = _alarm(_device(tiny, "PB-9", "panic_button"), "pressed")
    follow_up([FollowUp(alarm_id=alarm.pk, action="open")])
    alarm.refresh_from_db()
    assert alarm.case_id is not None  # the sensors side opened its case
    assert CareTask.objects.get(elder=elder).priority == "urgent"  # and care heard at once
