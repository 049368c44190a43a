"""Properties of the rule engine over random reading and tick sequences (hypothesis)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.sensors.messages import Reading
from jiayuan.sensors.rules.catalogue import rule_set_for
from jiayuan.sensors.rules.engine import (
    DeviceState,
    evaluate,
    new_state,
    state_from_dict,
    state_to_dict,
    tick,
)
from jiayuan.sensors.rules.model import Action, AlarmEvent, Damping, MaintenanceWindow, RuleSet

from .support import at, reading

RULE_SETS = {
    "ebike_shed": rule_set_for("ebike_shed", damping=Damping(3, 600, 120),
                               maintenance=[MaintenanceWindow(at(3000), at(4000))]),
    "door_sensor": rule_set_for("door_sensor", {"rules": {"no_activity": {
        "absence_seconds": 1800}}}),
}

shed_metrics = st.fixed_dictionaries({}, optional={
    "temperature_c": st.sampled_from([20, 55, 59, 61, 64, 66, 69, 71, 75, 90, 200, -50]),
    "load_pct": st.sampled_from([10, 79, 81, 85, 99, 101, 300]),
    "smoke": st.booleans(),
}).filter(bool)
door_metrics = st.fixed_dictionaries({}, optional={
    "door_open": st.booleans(), "opens": st.sampled_from([0, 0, 1, 2]),
}).filter(bool)

# a step: ("r", seconds forward (may be negative: out of order), metrics) or ("t", forward)
Step = tuple[str, int, dict[str, Any]]


def steps(metrics: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[list[Step]]:
    read = st.tuples(st.just("r"), st.sampled_from([-30, 0, 10, 30, 60, 300, 900]), metrics)
    nothing: dict[str, Any] = {}
    tck = st.tuples(st.just("t"), st.sampled_from([60, 300, 1800, 4000]), st.just(nothing))
    return st.lists(st.one_of(read, read, tck), min_size=1, max_size=40)


scenario = st.one_of(
    st.tuples(st.just("ebike_shed"), steps(shed_metrics)),
    st.tuples(st.just("door_sensor"), steps(door_metrics)),
)


def run(kind: str, plan: list[Step], *, duplicate: bool = False, round_trip: bool = False,
        ) -> tuple[DeviceState, list[AlarmEvent]]:
    rules: RuleSet = RULE_SETS[kind]
    state = new_state("D1")
    clock = 0.0
    events: list[AlarmEvent] = []
    sent: list[Reading] = []
    for i, (what, dt, metrics) in enumerate(plan):
        if what == "r":
            ts = clock + dt
            clock = max(clock, ts)
            r = reading("D1", ts, msg_id=f"k{i}", **metrics)
            state, ev = evaluate(state, r, rules, at(clock))
            events.extend(ev)
            sent.append(r)
            if duplicate:  # QoS 1 redelivery: now, and of a reading a few messages back
                for old in (r, sent[max(0, len(sent) - 6)]):
                    again, ev2 = evaluate(state, old, rules, at(clock))
                    assert ev2 == [] and again == state
        else:
            clock += dt
            state, ev = tick(state, rules, at(clock))
            events.extend(ev)
        if round_trip:
            state = state_from_dict(json.loads(json.dumps(state_to_dict(state))))
    return state, events


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_replaying_a_reading_yields_no_extra_events(case: tuple[str, list[Step]]) -> None:
    kind, plan = case
    _, plain = run(kind, plan)
    _, doubled = run(kind, plan, duplicate=True)
    assert doubled == plain


@settings(max_examples=100, deadline=None)
@given(scenario)
def test_evaluation_is_deterministic(case: tuple[str, list[Step]]) -> None:
    kind, plan = case
    s1, e1 = run(kind, plan)
    s2, e2 = run(kind, plan)
    assert e1 == e2
    assert state_to_dict(s1) == state_to_dict(s2)


@settings(max_examples=150, deadline=None)
@given(scenario)
def test_state_round_trips_through_json_without_changing_the_outcome(case: tuple[str, list[Step]]) -> None:
    kind, plan = case
    s1, e1 = run(kind, plan)
    s2, e2 = run(kind, plan, round_trip=True)
    assert e2 == e1
    assert s2 == s1
    assert state_from_dict(json.loads(json.dumps(state_to_dict(s1)))) == s1


@settings(max_examples=200, deadline=None)
@given(scenario)
def test_raise_and_clear_alternate_per_device_and_rule_and_never_raise_in_maintenance(case: tuple[str, list[Step]]) -> None:
    kind, plan = case
    state, events = run(kind, plan)
    per_rule: dict[str, list[Action]] = defaultdict(list)
    for e in events:
        if e.action is Action.RAISE:
            assert not RULE_SETS[kind].in_maintenance(e.at)
        if e.action in (Action.RAISE, Action.UPDATE, Action.CLEAR):
            per_rule[e.rule_id].append(e.action)
    for rule_id, seq in per_rule.items():
        active = False
        for action in seq:
            if action is Action.RAISE:
                assert not active, (rule_id, seq)
                active = True
            elif action is Action.UPDATE:
                assert active, (rule_id, seq)
            else:
                assert active, (rule_id, seq)
                active = False
        assert active == (rule_id in state.active)
