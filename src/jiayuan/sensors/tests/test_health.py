"""Device silence at the 2 x interval boundary, and recovery."""

from __future__ import annotations

from jiayuan.sensors.health import is_silent
from jiayuan.sensors.rules.catalogue import rule_set_for
from jiayuan.sensors.rules.model import Action

from .support import actions, feed, tick_at


def test_silence_is_reported_only_after_more_than_twice_the_interval() -> None:
    # given a gas detector (hourly) last heard at t=0
    rules = rule_set_for("gas_detector")
    state, _ = feed(rules, [(0, {"gas_lel_pct": 0})])
    # exactly 2 x 3600 s later it is not yet silent
    state, events = tick_at(state, rules, 7200)
    assert events == []
    # one second later it is, reported once
    state, events = tick_at(state, rules, 7201)
    assert [(e.rule_id, e.action) for e in events] == [("health.silence", Action.SILENCE)]
    assert "超过两倍间隔" in events[0].message
    state, events = tick_at(state, rules, 9000)
    assert events == []
    # the next reading reports the recovery
    state, events = feed(rules, [(9100, {"gas_lel_pct": 0})], state=state)
    assert actions(events) == ["recovery"]
    assert not state.silent


def test_per_device_interval_override_moves_the_silence_boundary() -> None:
    rules = rule_set_for("gas_detector", {"expected_interval_s": 600})
    state, _ = feed(rules, [(0, {"gas_lel_pct": 0})])
    _, events = tick_at(state, rules, 1201)
    assert actions(events) == ["silence"]


def test_a_device_never_heard_from_is_not_silent() -> None:
    assert not is_silent(None, 60, 10_000)
    assert not is_silent(0, 60, 120)
    assert is_silent(0, 60, 120.001)
