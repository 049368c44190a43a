"""Alarm lifecycle: de-duplication while active, flapping damping, maintenance
suppression, out-of-order and duplicate readings, acknowledgement."""

from __future__ import annotations

from datetime import datetime

import pytest

from jiayuan.sensors.rules.catalogue import rule_set_for
from jiayuan.sensors.rules.engine import (
    acknowledge,
    evaluate,
    new_state,
    replay,
    state_to_dict,
)
from jiayuan.sensors.rules.model import Action, Damping, MaintenanceWindow

from .support import actions, at, feed, reading, tick_at


def test_a_second_breach_while_active_does_not_raise_again() -> None:
    rules = rule_set_for("panic_button")
    state, events = feed(rules, [(0, {"pressed": True}), (10, {"pressed": True})])
    assert actions(events, "panic_button.pressed") == ["raise"]
    assert state.active["panic_button.pressed"].count == 2


def test_a_worse_breach_while_active_updates_the_alarm() -> None:
    rules = rule_set_for("ebike_shed")
    rid = "ebike_shed.overheat"
    state, events = feed(rules, [(0, {"temperature_c": 71}), (300, {"temperature_c": 75}),
                                 (600, {"temperature_c": 73})])
    assert [(e.action, e.value) for e in events if e.rule_id == rid] == [
        (Action.RAISE, 71), (Action.UPDATE, 75)]
    alarm = state.active[rid]
    assert (alarm.peak, alarm.value, alarm.count) == (75, 73, 3)


def test_flapping_alarm_is_held_active_until_stable() -> None:
    # given damping: more than 4 transitions in 600 s holds the clear for 300 s
    rules = rule_set_for("ebike_shed", damping=Damping(4, 600, 300))
    rid = "ebike_shed.overheat"
    steps = [(i * 30.0, {"temperature_c": 75 if i % 2 == 0 else 50}) for i in range(12)]
    # when the temperature flips every 30 s for 6 minutes
    state, events = feed(rules, steps)
    # then raise/clear happen twice, the third raise is held (no more clears)
    assert actions(events, rid) == ["raise", "clear", "raise", "clear", "raise"]
    assert state.active[rid].held
    # the last breach was at 300 s; stable from 330 s; no clear before 630 s
    state, events = feed(rules, [(600, {"temperature_c": 50})], state=state)
    assert actions(events, rid) == []
    state, events = tick_at(state, rules, 629)
    assert actions(events, rid) == []
    state, events = tick_at(state, rules, 630)
    assert actions(events, rid) == ["clear"]
    assert rid not in state.active


def test_a_breach_while_held_restarts_the_stability_clock() -> None:
    rules = rule_set_for("ebike_shed", damping=Damping(2, 600, 300))
    rid = "ebike_shed.overheat"
    state, events = feed(rules, [(0, {"temperature_c": 75}), (30, {"temperature_c": 50}),
                                 (60, {"temperature_c": 75}), (90, {"temperature_c": 50})])
    assert actions(events, rid) == ["raise", "clear", "raise"]
    state, _ = feed(rules, [(200, {"temperature_c": 75}), (210, {"temperature_c": 50})],
                    state=state)
    state, events = tick_at(state, rules, 500)
    assert actions(events, rid) == []
    state, events = tick_at(state, rules, 510)
    assert actions(events, rid) == ["clear"]


def test_maintenance_window_suppresses_the_raise_and_records_it_once() -> None:
    window = MaintenanceWindow(at(0), at(3600))
    rules = rule_set_for("panic_button", maintenance=[window])
    state, events = feed(rules, [(100, {"pressed": True}), (200, {"pressed": True})])
    assert actions(events) == ["suppressed"]
    assert "维护期间不告警" in events[0].message
    assert state.active == {}
    # after the window a press raises normally
    state, events = feed(rules, [(4000, {"pressed": True})], state=state)
    assert actions(events) == ["raise"]


def test_a_condition_still_true_after_maintenance_raises_on_the_next_tick() -> None:
    window = MaintenanceWindow(at(0), at(600))
    rules = rule_set_for("water_logging", maintenance=[window])
    rid = "water_logging.waterlogged"
    state, events = feed(rules, [(0, {"depth_cm": 20}), (300, {"depth_cm": 20})])
    assert actions(events, rid) == ["suppressed"]
    state, events = tick_at(state, rules, 600)
    assert actions(events, rid) == ["raise"]


def test_out_of_order_reading_is_reported_but_ignored_for_rules() -> None:
    rules = rule_set_for("ebike_shed")
    state, _ = feed(rules, [(300, {"temperature_c": 40})])
    state2, events = evaluate(state, reading("D1", 100, temperature_c=90), rules, at(310))
    assert actions(events) == ["out_of_order"]
    assert "早于最近一次读数 200 秒" in events[0].message
    assert state2.values["temperature_c"] == 40
    assert state2.active == {}
    assert state2.out_of_order == 1


def test_the_same_reading_twice_changes_nothing_the_second_time() -> None:
    rules = rule_set_for("panic_button")
    r = reading("D1", 0, pressed=True)
    state, first = evaluate(new_state("D1"), r, rules, at(0))
    again, second = evaluate(state, r, rules, at(5))
    assert actions(first) == ["raise"]
    assert second == []
    assert again is state


def test_acknowledged_alarm_stays_active_and_still_clears() -> None:
    rules = rule_set_for("ebike_shed")
    rid = "ebike_shed.overheat"
    state, _ = feed(rules, [(0, {"temperature_c": 72})])
    state = acknowledge(state, rid)
    assert state.active[rid].acknowledged
    state, events = feed(rules, [(300, {"temperature_c": 50})], state=state)
    assert actions(events, rid) == ["clear"]
    with pytest.raises(KeyError):
        acknowledge(state, rid)


def test_evaluate_refuses_a_naive_clock_and_another_devices_reading_without_change() -> None:
    rules = rule_set_for("panic_button")
    state = new_state("D1")
    before = state_to_dict(state)
    with pytest.raises(ValueError):
        evaluate(state, reading("D1", 0, pressed=True), rules, datetime(2026, 11, 23))
    with pytest.raises(ValueError):
        evaluate(state, reading("D2", 0, pressed=True), rules, at(0))
    assert state_to_dict(state) == before


def test_evaluate_does_not_mutate_the_state_it_was_given() -> None:
    rules = rule_set_for("ebike_shed")
    state, _ = feed(rules, [(0, {"temperature_c": 40})])
    before = state_to_dict(state)
    feed(rules, [(300, {"temperature_c": 80, "load_pct": 95})], state=state)
    assert state_to_dict(state) == before


def test_a_restarted_worker_rebuilds_state_by_replaying_stored_readings() -> None:
    # given a worker that saw four readings, raised and still holds an alarm
    rules = rule_set_for("ebike_shed")
    stored = [reading("D1", s, temperature_c=v, load_pct=90)
              for s, v in [(0, 40), (300, 62), (600, 66), (900, 64)]]
    live = new_state("D1")
    for r in stored:
        live, _ = evaluate(live, r, rules, r.ts)
    # when a new worker replays the stored readings
    rebuilt = replay(new_state("D1"), stored, rules)
    # then it has the same state, so the next reading neither re-raises nor misses a clear
    assert rebuilt == live
    assert "ebike_shed.hot_and_loaded" in rebuilt.active
    _, events = evaluate(rebuilt, reading("D1", 1200, temperature_c=50), rules, at(1200))
    assert actions(events, "ebike_shed.hot_and_loaded") == ["clear"]
