"""Test helpers: readings at a given second, a fixed clock, a small shed rule set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from jiayuan.sensors.messages import Reading
from jiayuan.sensors.rules.engine import DeviceState, evaluate, new_state, tick
from jiayuan.sensors.rules.model import AlarmEvent, RuleSet

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_reading(device: str, seconds: float, metrics: Mapping[str, float | bool],
                 msg_id: str | None = None) -> Reading:
    mid = msg_id if msg_id is not None else f"m{seconds:g}"
    return Reading(district="310115", device_code=device, message_id=mid, ts=at(seconds),
                   metrics=dict(metrics))


def reading(device: str, seconds: float, msg_id: str | None = None,
            **metrics: float | bool) -> Reading:
    return make_reading(device, seconds, metrics, msg_id)


def feed(rules: RuleSet, steps: Sequence[tuple[float, Mapping[str, float | bool]]],
         device: str = "D1", state: DeviceState | None = None,
         ) -> tuple[DeviceState, list[AlarmEvent]]:
    """Evaluate readings at the given seconds; return the final state and all events."""
    s = state or new_state(device)
    out: list[AlarmEvent] = []
    for sec, metrics in steps:
        s, ev = evaluate(s, make_reading(device, sec, metrics), rules, at(sec))
        out.extend(ev)
    return s, out


def tick_at(state: DeviceState, rules: RuleSet, seconds: float
            ) -> tuple[DeviceState, list[AlarmEvent]]:
    return tick(state, rules, at(seconds))


def actions(events: list[AlarmEvent], rule_id: str | None = None) -> list[str]:
    return [e.action.value for e in events if rule_id is None or e.rule_id == rule_id]
