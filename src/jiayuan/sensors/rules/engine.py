"""The rule evaluator: per-device state in, new state and events out. Pure.

``evaluate(state, reading, rules, now)`` judges one reading; ``tick(state, rules, now)``
judges the passing of time (absence of activity, persistence reached between readings,
held clears of flapping alarms, device silence). Neither mutates its input. The state is a
small dataclass of plain values (times are epoch seconds) that ``state_to_dict`` /
``state_from_dict`` turn into JSON and back, and that ``replay`` rebuilds from stored
readings after a worker restart.

Alarm lifecycle per (device, rule): raise → (update)* → clear, strictly alternating raise
and clear. A breach while active updates the alarm (an ``update`` event only when the value
gets worse than its peak), it never raises twice. Acknowledgement is a human act recorded
by the sensors app; the engine only carries the flag. See docs/sensors.md.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jiayuan.sensors.health import (
    check_ranges,
    is_silent,
    recovery_event,
    silence_event,
)
from jiayuan.sensors.messages import Reading
from jiayuan.sensors.rules.model import (
    Action,
    AlarmEvent,
    Condition,
    Op,
    Rule,
    RuleKind,
    RuleSet,
    Severity,
)

RECENT_KEYS = 16
OUT_OF_ORDER_RULE = "reading.out_of_order"


@dataclass(frozen=True, slots=True)
class ActiveAlarm:
    raised_at: float
    value: float | None
    peak: float | None
    count: int = 1
    acknowledged: bool = False
    held: bool = False  # flapping: a clear is being held back
    clear_since: float | None = None  # held: since when the condition has been absent


@dataclass(slots=True)
class DeviceState:
    """Everything the engine remembers about one device. Treat as immutable."""

    device_code: str
    last_ts: float | None = None  # newest accepted reading (device clock)
    last_heard: float | None = None  # when the worker last heard from it (worker clock)
    values: dict[str, float] = field(default_factory=dict)
    value_ts: dict[str, float] = field(default_factory=dict)
    rates: dict[str, float] = field(default_factory=dict)  # per minute, at the last reading
    pending: dict[str, float] = field(default_factory=dict)  # rule -> condition holds since
    active: dict[str, ActiveAlarm] = field(default_factory=dict)
    suppressed: dict[str, float] = field(default_factory=dict)  # rule -> suppressed at
    activity: dict[str, float] = field(default_factory=dict)  # absence rule -> last activity
    flaps: dict[str, tuple[float, ...]] = field(default_factory=dict)  # rule -> transitions
    faults: tuple[str, ...] = ()
    silent: bool = False
    recent_keys: tuple[str, ...] = ()
    out_of_order: int = 0
    # True while the rarely changing maps (pending, active, suppressed, activity, flaps) are
    # shared with the state this one was made from (``_successor``): copied on first write.
    shared: bool = field(default=False, compare=False, repr=False)

    def copy(self) -> DeviceState:
        return DeviceState(
            device_code=self.device_code, last_ts=self.last_ts, last_heard=self.last_heard,
            values=dict(self.values), value_ts=dict(self.value_ts), rates=dict(self.rates),
            pending=dict(self.pending), active=dict(self.active),
            suppressed=dict(self.suppressed), activity=dict(self.activity),
            flaps=dict(self.flaps), faults=self.faults, silent=self.silent,
            recent_keys=self.recent_keys, out_of_order=self.out_of_order,
        )


def _successor(state: DeviceState) -> DeviceState:
    """The state to change for a new reading: the per-reading maps (values, their times,
    rates) copied, the rarely changing ones shared until ``_own`` (copy on write). Cheaper
    than ``copy()`` on the quiet path, which is almost every reading."""
    s = DeviceState.__new__(DeviceState)
    s.device_code = state.device_code
    s.last_ts = state.last_ts
    s.last_heard = state.last_heard
    s.values = dict(state.values)
    s.value_ts = dict(state.value_ts)
    s.rates = dict(state.rates)
    s.pending = state.pending
    s.active = state.active
    s.suppressed = state.suppressed
    s.activity = state.activity
    s.flaps = state.flaps
    s.faults = state.faults
    s.silent = state.silent
    s.recent_keys = state.recent_keys
    s.out_of_order = state.out_of_order
    s.shared = True
    return s



def _own(s: DeviceState) -> None:
    """Copy the shared maps of ``s`` before writing to them."""
    s.pending = dict(s.pending)
    s.active = dict(s.active)
    s.suppressed = dict(s.suppressed)
    s.activity = dict(s.activity)
    s.flaps = dict(s.flaps)
    s.shared = False


_OPS: dict[Op, Callable[[float, float], bool]] = {
    Op.GT: operator.gt, Op.GE: operator.ge, Op.LT: operator.lt, Op.LE: operator.le,
    Op.EQ: operator.eq,
}


@dataclass(frozen=True, slots=True)
class _Step:
    """One rule of a rule set, prepared for the evaluator's hot loop."""

    rule: Rule
    id: str
    metrics: frozenset[str]
    absence: bool
    # a single condition on a value (not a rate): metric, comparison, threshold
    metric: str | None
    test: Callable[[float, float], bool] | None
    threshold: float


_PLANS: dict[int, tuple[RuleSet, tuple[_Step, ...], dict[str, tuple[float, float]]]] = {}


def _plan(rules: RuleSet) -> tuple[tuple[_Step, ...], dict[str, tuple[float, float]]]:
    """The prepared rules and metric ranges of a rule set, made once per rule set (kept by
    identity; the rule set is held so its id is not reused)."""
    got = _PLANS.get(id(rules))
    if got is not None and got[0] is rules:
        return got[1], got[2]
    steps = []
    for rule, metrics in rules.plan:
        single = (len(rule.conditions) == 1 and rule.kind is not RuleKind.RATE
                  and rule.kind is not RuleKind.ABSENCE)
        c = rule.conditions[0] if rule.conditions else None
        steps.append(_Step(rule, rule.id, metrics, rule.kind is RuleKind.ABSENCE,
                           c.metric if single and c else None,
                           _OPS[c.op] if single and c else None,
                           c.threshold if single and c else 0.0))
    ranges = {name: (m.minimum, m.maximum) for name, m in rules.metrics.items()}
    if len(_PLANS) > 10_000:  # rule sets replaced over a long life: start again
        _PLANS.clear()
    _PLANS[id(rules)] = (rules, tuple(steps), ranges)
    return tuple(steps), ranges


_last_now: tuple[datetime | None, float] = (None, 0.0)  # the last ``now`` and its timestamp


def _require_aware(now: datetime) -> float:
    # a batch evaluates thousands of readings with the same ``now``: checked once (one
    # tuple, replaced whole, so a second thread never sees half of it)
    global _last_now
    last = _last_now
    if now is last[0]:
        return last[1]
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    t = now.timestamp()
    _last_now = (now, t)
    return t


# ----------------------------------------------------------------------------- messages

def _value_text(rules: RuleSet, metric: str, value: float) -> str:
    spec = rules.metrics.get(metric)
    if spec is None:
        return f"{metric} {value:g}"
    return f"{spec.label} {value:g}{spec.unit}"


def _cond_text(rules: RuleSet, cond: Condition) -> str:
    spec = rules.metrics.get(cond.metric)
    label, unit = (spec.label, spec.unit) if spec else (cond.metric, "")
    return cond.describe_zh(label, unit)


def _describe(rule: Rule, rules: RuleSet, state: DeviceState) -> str:
    if rule.kind is RuleKind.RATE:
        c = rule.conditions[0]
        spec = rules.metrics.get(c.metric)
        label, unit = (spec.label, spec.unit) if spec else (c.metric, "")
        rate = state.rates.get(c.metric, 0.0)
        return (f"{label}变化速率 {rate:+.2f}{unit}/分钟（阈值：{_cond_text(rules, c)}/分钟）")
    parts = []
    for c in rule.conditions:
        v = state.values.get(c.metric)
        now_text = "未知" if v is None else _value_text(rules, c.metric, v)
        parts.append(f"{now_text}（阈值：{_cond_text(rules, c)}）")
    joiner = "且" if rule.combine == "all" else "或"
    held = f"，持续 {rule.for_seconds:g} 秒" if rule.for_seconds else ""
    return joiner.join(parts) + held


def _event(state: DeviceState, rule: Rule, action: Action, at: datetime, value: float | None,
           message: str, key: str | None) -> AlarmEvent:
    return AlarmEvent(
        device_code=state.device_code, rule_id=rule.id, action=action, at=at,
        severity=rule.severity, message=message, value=value, reading_key=key,
        title=rule.title, category=rule.category,
    )


# ------------------------------------------------------------------- condition checks

def _rule_value(rule: Rule, state: DeviceState) -> float | None:
    c = rule.conditions[0]
    if rule.kind is RuleKind.RATE:
        return state.rates.get(c.metric)
    return state.values.get(c.metric)


def _holds(rule: Rule, state: DeviceState, active: bool) -> bool | None:
    """Whether the rule's condition holds now (with hysteresis when already active); None
    when a metric it needs is still unknown."""
    source = state.rates if rule.kind is RuleKind.RATE else state.values
    conds = rule.conditions
    if len(conds) == 1:
        c = conds[0]
        v = source.get(c.metric)
        if v is None:
            return None
        return c.still_breached(v, rule.hysteresis) if active else c.breached(v)
    results = []
    for c in conds:
        v = source.get(c.metric)
        if v is None:
            if rule.combine == "all":
                return None
            continue
        results.append(c.still_breached(v, rule.hysteresis) if active else c.breached(v))
    if not results:
        return None
    return all(results) if rule.combine == "all" else any(results)


def _worse(rule: Rule, value: float | None, peak: float | None) -> bool:
    if value is None or peak is None:
        return False
    op = rule.conditions[0].op
    if op in (Op.GT, Op.GE):
        return value > peak
    if op in (Op.LT, Op.LE):
        return value < peak
    return False


# ------------------------------------------------------------------- state transitions

def _transition(state: DeviceState, rule_id: str, t: float, rules: RuleSet) -> None:
    window = rules.damping.window_seconds
    kept = tuple(x for x in state.flaps.get(rule_id, ()) if t - x <= window)
    state.flaps[rule_id] = (*kept, t)


def _raise(state: DeviceState, rule: Rule, rules: RuleSet, t: float, at: datetime,
           value: float | None, message: str, key: str | None,
           events: list[AlarmEvent]) -> None:
    if rules.in_maintenance(at):
        if rule.id not in state.suppressed:
            state.suppressed[rule.id] = t
            events.append(_event(state, rule, Action.SUPPRESSED, at, value,
                                 f"维护期间不告警：{message}", key))
        return
    state.suppressed.pop(rule.id, None)
    state.pending.pop(rule.id, None)
    state.active[rule.id] = ActiveAlarm(raised_at=t, value=value, peak=value)
    _transition(state, rule.id, t, rules)
    events.append(_event(state, rule, Action.RAISE, at, value, message, key))


def _clear(state: DeviceState, rule: Rule, rules: RuleSet, t: float, at: datetime,
           value: float | None, key: str | None, events: list[AlarmEvent]) -> None:
    """The condition is absent: clear, unless flapping damping holds the alarm."""
    alarm = state.active[rule.id]
    damping = rules.damping
    if alarm.held:
        since = alarm.clear_since if alarm.clear_since is not None else t
        if t - since < damping.stable_seconds:
            if alarm.clear_since is None:
                state.active[rule.id] = dataclasses.replace(alarm, clear_since=t)
            return
    else:
        recent = [x for x in state.flaps.get(rule.id, ()) if t - x <= damping.window_seconds]
        if len(recent) + 1 > damping.max_transitions:
            state.active[rule.id] = dataclasses.replace(alarm, held=True, clear_since=t)
            if damping.stable_seconds > 0:
                return
    del state.active[rule.id]
    _transition(state, rule.id, t, rules)
    events.append(_event(state, rule, Action.CLEAR, at, value, f"{rule.title}已解除", key))


def _breach_while_active(state: DeviceState, rule: Rule, rules: RuleSet, at: datetime,
                         value: float | None, key: str | None,
                         events: list[AlarmEvent]) -> None:
    alarm = state.active[rule.id]
    worse = _worse(rule, value, alarm.peak)
    state.active[rule.id] = dataclasses.replace(
        alarm, value=value, count=alarm.count + 1, clear_since=None,
        peak=value if worse else alarm.peak,
    )
    if worse:
        events.append(_event(state, rule, Action.UPDATE, at, value,
                             f"{rule.title}加重：{_describe(rule, rules, state)}", key))


def _apply(state: DeviceState, rule: Rule, rules: RuleSet, holds: bool, t: float,
           at: datetime, key: str | None, events: list[AlarmEvent]) -> None:
    if holds:
        if rule.id in state.active:
            _breach_while_active(state, rule, rules, at, _rule_value(rule, state), key, events)
            return
        since = state.pending.setdefault(rule.id, t)
        if t - since >= rule.for_seconds:
            _raise(state, rule, rules, t, at, _rule_value(rule, state),
                   f"{rule.title}：{_describe(rule, rules, state)}", key, events)
        return
    state.pending.pop(rule.id, None)
    state.suppressed.pop(rule.id, None)
    if rule.id in state.active:
        _clear(state, rule, rules, t, at, _rule_value(rule, state), key, events)


def _absence_due(state: DeviceState, rule: Rule, rules: RuleSet, t: float, at: datetime,
                 key: str | None, events: list[AlarmEvent]) -> None:
    last = state.activity.get(rule.id)
    if last is None or rule.id in state.active:
        return
    idle = t - last
    if idle >= rule.absence_seconds:
        offline = "（设备同时离线，请先核实设备）" if state.silent else ""
        _raise(state, rule, rules, t, at, round(idle / 3600, 2),
               f"{rule.title}：已 {idle / 3600:.1f} 小时无活动（阈值 "
               f"{rule.absence_seconds / 3600:g} 小时）{offline}", key, events)


def _absence_on_reading(state: DeviceState, rule: Rule, rules: RuleSet,
                        good: dict[str, float], t: float, at: datetime, key: str | None,
                        events: list[AlarmEvent]) -> None:
    active_now = any(c.metric in good and c.breached(good[c.metric]) for c in rule.conditions)
    if active_now:
        state.activity[rule.id] = t
        state.suppressed.pop(rule.id, None)
        if rule.id in state.active:
            _clear(state, rule, rules, t, at, 0.0, key, events)
        return
    if rule.id not in state.activity:
        state.activity[rule.id] = t  # the clock starts at the first reading
    _absence_due(state, rule, rules, t, at, key, events)


# ------------------------------------------------------------------------- public API

def new_state(device_code: str) -> DeviceState:
    return DeviceState(device_code=device_code)


def evaluate(state: DeviceState, reading: Reading, rules: RuleSet,
             now: datetime) -> tuple[DeviceState, list[AlarmEvent]]:
    """Judge one reading of ``state.device_code`` against ``rules``.

    Returns the new state and the events, in order. Refuses (``ValueError``) a reading of
    another device and a naive ``now``. A reading whose idempotency key was seen recently
    changes nothing and yields no event. A reading older than the newest one seen is not
    evaluated: it yields one ``out_of_order`` event (and proves the device alive).
    """
    now_t = _require_aware(now)
    if reading.device_code != state.device_code:
        raise ValueError("reading of another device")
    key = reading.key
    if key in state.recent_keys:
        return state, []
    s = _successor(state)
    s.recent_keys = (*s.recent_keys[-(RECENT_KEYS - 1):], key)
    s.last_heard = now_t
    events: list[AlarmEvent] = []
    if s.silent:
        s.silent = False
        events.append(recovery_event(s.device_code, reading.ts, key))
    t = reading.epoch
    if s.last_ts is not None and t < s.last_ts:
        s.out_of_order += 1
        events.append(AlarmEvent(
            device_code=s.device_code, rule_id=OUT_OF_ORDER_RULE, action=Action.OUT_OF_ORDER,
            at=reading.ts, severity=Severity.UNKNOWN, reading_key=key, title="乱序读数",
            message=f"读数时间早于最近一次读数 {s.last_ts - t:.0f} 秒，已记录但不参与规则",
            category="Infra",
        ))
        return s, events

    steps, ranges = _plan(rules)
    raw: dict[str, float] = {k: float(v) for k, v in reading.metrics.items()}
    if reading.battery is not None:
        raw["battery"] = reading.battery
    if reading.rssi is not None:
        raw["rssi"] = reading.rssi
    # The common case first: no metric in fault before, every value within its range.
    good: dict[str, float] | None = {} if not s.faults else None
    if good is not None:
        for name, value in raw.items():
            bounds = ranges.get(name)
            if bounds is None:
                continue  # a metric the kind does not declare: no rule can use it
            if bounds[0] <= value <= bounds[1]:
                good[name] = value
            else:
                good = None
                break
    if good is None:
        good, s.faults, health = check_ranges(s.device_code, raw, rules.metrics, s.faults,
                                              reading.ts, key)
        if health:
            events.extend(health)
    values, value_ts, rates = s.values, s.value_ts, s.rates
    for name, value in good.items():
        prev_t = value_ts.get(name)
        if prev_t is not None and t > prev_t:
            rates[name] = (value - values[name]) * 60.0 / (t - prev_t)
        elif name in rates:
            del rates[name]
        values[name] = value
        value_ts[name] = t
    s.last_ts = t

    for step in steps:
        if step.absence:
            if s.shared:
                _own(s)
            _absence_on_reading(s, step.rule, rules, good, t, reading.ts, key, events)
            continue
        if step.metrics.isdisjoint(good):
            continue  # this reading says nothing new about the rule
        rid = step.id
        active = rid in s.active
        quiet_before = not active and rid not in s.pending and rid not in s.suppressed
        if quiet_before and step.test is not None:
            v = values.get(step.metric)  # type: ignore[arg-type]
            if v is None or not step.test(v, step.threshold):
                continue  # the quiet path: nothing held before, nothing holds now
            holds: bool | None = True
        else:
            rule = step.rule
            holds = _holds(rule, s, active)
            if holds is None or (not holds and quiet_before):
                continue
        if s.shared:
            _own(s)
        _apply(s, step.rule, rules, bool(holds), t, reading.ts, key, events)
    return s, events


def tick(state: DeviceState, rules: RuleSet,
         now: datetime) -> tuple[DeviceState, list[AlarmEvent]]:
    """Judge the passing of time up to ``now`` with no new reading: device silence (once),
    absence of activity, persistence that has now lasted long enough, and held clears of
    damped alarms that have been stable for long enough. Refuses a naive ``now``."""
    t = _require_aware(now)
    s = state.copy()
    events: list[AlarmEvent] = []
    if not s.silent and s.last_heard is not None and is_silent(
            s.last_heard, rules.expected_interval_s, t):
        s.silent = True
        events.append(silence_event(s.device_code, s.last_heard, rules.expected_interval_s, now))
    for rule in rules.rules:
        alarm = s.active.get(rule.id)
        if alarm is not None:
            if alarm.held and alarm.clear_since is not None and \
                    t - alarm.clear_since >= rules.damping.stable_seconds:
                _clear(s, rule, rules, t, now, None, None, events)
            continue
        if rule.kind is RuleKind.ABSENCE:
            _absence_due(s, rule, rules, t, now, None, events)
            continue
        since = s.pending.get(rule.id)
        if since is not None and t - since >= rule.for_seconds:
            _raise(s, rule, rules, t, now, _rule_value(rule, s),
                   f"{rule.title}：{_describe(rule, rules, s)}", None, events)
    return s, events


def acknowledge(state: DeviceState, rule_id: str) -> DeviceState:
    """Mark an active alarm acknowledged (lifecycle active → acknowledged). Refuses
    (``KeyError``) a rule with no active alarm."""
    s = state.copy()
    s.active[rule_id] = dataclasses.replace(s.active[rule_id], acknowledged=True)
    return s


def replay(state: DeviceState, readings: Iterable[Reading],
           rules: RuleSet) -> DeviceState:
    """Rebuild state from stored readings (in arrival order), discarding the events: how a
    restarted worker recovers. ``now`` for each reading is its own timestamp."""
    for reading in readings:
        state, _ = evaluate(state, reading, rules, reading.ts)
    return state


# ------------------------------------------------------------------- serialisation

def state_to_dict(state: DeviceState) -> dict[str, Any]:
    """JSON-ready dict of the state (lists for tuples, dicts for alarms)."""
    return {
        "device_code": state.device_code,
        "last_ts": state.last_ts,
        "last_heard": state.last_heard,
        "values": dict(state.values),
        "value_ts": dict(state.value_ts),
        "rates": dict(state.rates),
        "pending": dict(state.pending),
        "active": {k: dataclasses.asdict(v) for k, v in state.active.items()},
        "suppressed": dict(state.suppressed),
        "activity": dict(state.activity),
        "flaps": {k: list(v) for k, v in state.flaps.items()},
        "faults": list(state.faults),
        "silent": state.silent,
        "recent_keys": list(state.recent_keys),
        "out_of_order": state.out_of_order,
    }


def state_from_dict(data: dict[str, Any]) -> DeviceState:
    """Inverse of ``state_to_dict``. Refuses (KeyError/TypeError) a dict missing fields."""
    return DeviceState(
        device_code=str(data["device_code"]),
        last_ts=data["last_ts"],
        last_heard=data["last_heard"],
        values={k: float(v) for k, v in data["values"].items()},
        value_ts={k: float(v) for k, v in data["value_ts"].items()},
        rates={k: float(v) for k, v in data["rates"].items()},
        pending={k: float(v) for k, v in data["pending"].items()},
        active={k: ActiveAlarm(**v) for k, v in data["active"].items()},
        suppressed={k: float(v) for k, v in data["suppressed"].items()},
        activity={k: float(v) for k, v in data["activity"].items()},
        flaps={k: tuple(float(x) for x in v) for k, v in data["flaps"].items()},
        faults=tuple(data["faults"]),
        silent=bool(data["silent"]),
        recent_keys=tuple(data["recent_keys"]),
        out_of_order=int(data["out_of_order"]),
    )
