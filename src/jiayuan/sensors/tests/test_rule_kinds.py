"""Each rule kind fires and clears as documented (docs/sensors.md, "Rule kinds")."""

from __future__ import annotations

from jiayuan.sensors.rules.catalogue import rule_set_for
from jiayuan.sensors.rules.model import Action

from .support import actions, feed, tick_at

HOUR = 3600.0


def test_threshold_raises_on_breach_and_clears_only_past_the_hysteresis() -> None:
    # given the shed's overheat rule (>= 70 °C, hysteresis 5)
    rules = rule_set_for("ebike_shed")
    # when the temperature goes 65, 71, 68, 64 five minutes apart
    _, events = feed(rules, [(0, {"temperature_c": 65}), (300, {"temperature_c": 71}),
                             (600, {"temperature_c": 68}), (900, {"temperature_c": 64})])
    # then it raises at 71, holds at 68 (inside the hysteresis band), clears at 64
    overheat = [e for e in events if e.rule_id == "ebike_shed.overheat"]
    assert [(e.action, e.value) for e in overheat] == [(Action.RAISE, 71), (Action.CLEAR, 64)]
    assert overheat[0].message.startswith("车棚温度过高：车棚温度 71°C")


def test_persistence_ignores_a_short_spike() -> None:
    # given water-logging: >= 15 cm for 120 s
    rules = rule_set_for("water_logging")
    # when the depth is high, drops, and is high again for only 60 s
    _, events = feed(rules, [(0, {"depth_cm": 20}), (60, {"depth_cm": 5}),
                             (120, {"depth_cm": 20}), (180, {"depth_cm": 20})])
    # then nothing is raised for waterlogging
    assert actions(events, "water_logging.waterlogged") == []


def test_persistence_raises_once_the_condition_has_held_long_enough() -> None:
    rules = rule_set_for("water_logging")
    state, events = feed(rules, [(0, {"depth_cm": 20}), (60, {"depth_cm": 20}),
                                 (120, {"depth_cm": 20})])
    assert actions(events, "water_logging.waterlogged") == ["raise"]
    state, events = feed(rules, [(180, {"depth_cm": 10})], state=state)
    assert actions(events, "water_logging.waterlogged") == ["clear"]


def test_persistence_raises_on_a_clock_tick_when_no_further_reading_comes() -> None:
    rules = rule_set_for("water_logging")
    state, events = feed(rules, [(0, {"depth_cm": 20})])
    assert actions(events, "water_logging.waterlogged") == []
    state, events = tick_at(state, rules, 119)
    assert actions(events, "water_logging.waterlogged") == []
    state, events = tick_at(state, rules, 120)
    assert actions(events, "water_logging.waterlogged") == ["raise"]


def test_rate_of_change_raises_on_a_fast_rise_and_clears_when_it_slows() -> None:
    # given the smoke detector's rate-of-rise rule (> 8 °C/min, hysteresis 2)
    rules = rule_set_for("smoke_detector")
    _, events = feed(rules, [(0, {"temperature_c": 20}), (60, {"temperature_c": 30}),
                             (120, {"temperature_c": 32})])
    rise = [e for e in events if e.rule_id == "smoke_detector.heat_rise"]
    assert [e.action for e in rise] == [Action.RAISE, Action.CLEAR]
    assert rise[0].value == 10.0
    assert "变化速率 +10.00°C/分钟" in rise[0].message


def test_rate_of_change_detects_a_fast_drop_of_hydrant_pressure() -> None:
    rules = rule_set_for("hydrant_pressure")
    _, events = feed(rules, [(0, {"pressure_mpa": 0.35}), (60, {"pressure_mpa": 0.10})])
    assert actions(events, "hydrant_pressure.pressure_drop") == ["raise"]


def test_composite_needs_both_conditions_and_uses_the_latest_value_of_each() -> None:
    rules = rule_set_for("ebike_shed")
    rid = "ebike_shed.hot_and_loaded"
    # hot but lightly loaded: nothing
    state, events = feed(rules, [(0, {"temperature_c": 65, "load_pct": 50})])
    assert actions(events, rid) == []
    # loaded but cool: nothing
    _, events = feed(rules, [(0, {"temperature_c": 40, "load_pct": 90})])
    assert actions(events, rid) == []
    # then the load alone rises (temperature remembered at 65): raise
    state, events = feed(rules, [(300, {"load_pct": 85})], state=state)
    assert actions(events, rid) == ["raise"]
    # 58 °C is inside the 5 °C hysteresis band: still active; 54 °C clears
    state, events = feed(rules, [(600, {"temperature_c": 58})], state=state)
    assert actions(events, rid) == []
    state, events = feed(rules, [(900, {"temperature_c": 54})], state=state)
    assert actions(events, rid) == ["clear"]


def test_absence_raises_on_the_tick_after_n_hours_and_clears_on_activity() -> None:
    # given a door sensor (no opening for 24 h) heard at t=0 with the door shut
    rules = rule_set_for("door_sensor")
    rid = "door_sensor.no_activity"
    state, events = feed(rules, [(0, {"door_open": False})])
    assert actions(events, rid) == []
    # when the clock ticks just before and at 24 hours
    state, events = tick_at(state, rules, 24 * HOUR - 1)
    assert actions(events, rid) == []
    state, events = tick_at(state, rules, 24 * HOUR)
    # then it raises once, with the idle hours as value
    assert actions(events, rid) == ["raise"]
    assert events[-1].value == 24.0
    # a shut-door heartbeat and a later tick do not raise again
    state, events = feed(rules, [(25 * HOUR, {"door_open": False})], state=state)
    assert actions(events, rid) == []
    state, events = tick_at(state, rules, 26 * HOUR)
    assert actions(events, rid) == []
    # and the door opening clears it
    state, events = feed(rules, [(27 * HOUR, {"door_open": True})], state=state)
    assert actions(events, rid) == ["clear"]


def test_absence_is_also_found_on_a_reading_without_activity() -> None:
    rules = rule_set_for("water_meter")
    _, events = feed(rules, [(0, {"flow_l": 0}), (12 * HOUR, {"flow_l": 0.5})])
    assert actions(events, "water_meter.no_water") == ["raise"]


def test_impossible_value_is_a_device_fault_not_an_alarm() -> None:
    rules = rule_set_for("smoke_detector")
    state, events = feed(rules, [(0, {"temperature_c": 500})])
    assert [(e.rule_id, e.action) for e in events] == [
        ("health.range.temperature_c", Action.FAULT)]
    assert "temperature_c" not in state.values
    # reported once while it lasts, cleared when the metric reads in range again
    state, events = feed(rules, [(60, {"temperature_c": 600})], state=state)
    assert events == []
    state, events = feed(rules, [(120, {"temperature_c": 21})], state=state)
    assert [(e.rule_id, e.action) for e in events] == [
        ("health.range.temperature_c", Action.FAULT_CLEARED)]
    assert state.faults == ()
