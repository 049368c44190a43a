"""Plain data for the rule core: conditions, rules, device kinds, rule sets and events.

No Django. Everything here is immutable (frozen dataclasses, tuples) so a rule set can be
shared by every device of a kind and by several threads of an ingest worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from jiayuan.core.errors import ValidationFailed


class RuleConfigError(ValidationFailed):
    """A rule, device kind or per-device override that cannot be used as given."""

    code = "invalid_rule_config"
    default_message = "规则配置有误"


class Op(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="


class RuleKind(StrEnum):
    THRESHOLD = "threshold"
    PERSISTENCE = "persistence"
    RATE = "rate"
    ABSENCE = "absence"
    COMPOSITE = "composite"


class Severity(StrEnum):
    """OASIS CAP 1.2 ``severity`` values, most severe first."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Action(StrEnum):
    """What an event says happened. The first four concern alarms, the rest device health."""

    RAISE = "raise"  # a new alarm (CAP msgType Alert)
    UPDATE = "update"  # an active alarm got worse (CAP Update); never a second raise
    CLEAR = "clear"  # the condition has gone (CAP Cancel)
    SUPPRESSED = "suppressed"  # would have raised, but the device is in a maintenance window
    FAULT = "fault"  # a value outside the physical range of the kind: device fault, not alarm
    FAULT_CLEARED = "fault_cleared"
    SILENCE = "silence"  # no reading for more than 2 x the expected interval
    RECOVERY = "recovery"  # a silent device reported again
    OUT_OF_ORDER = "out_of_order"  # an older reading than the last seen: ignored for rules


ALARM_ACTIONS = frozenset({Action.RAISE, Action.UPDATE, Action.CLEAR})

_OP_ZH = {Op.GT: "高于", Op.GE: "不低于", Op.LT: "低于", Op.LE: "不高于", Op.EQ: "等于"}


@dataclass(frozen=True, slots=True)
class Condition:
    """``metric op threshold``; booleans are compared as 1/0."""

    metric: str
    op: Op
    threshold: float

    def breached(self, value: float) -> bool:
        """Whether ``value`` breaches the condition (the raising test)."""
        op = self.op
        t = self.threshold
        if op is Op.GT:
            return value > t
        if op is Op.GE:
            return value >= t
        if op is Op.LT:
            return value < t
        if op is Op.LE:
            return value <= t
        return value == t

    def still_breached(self, value: float, hysteresis: float) -> bool:
        """Whether an already active condition still holds: the threshold moves back by
        ``hysteresis`` so a value hovering at the threshold does not clear and re-raise."""
        op = self.op
        t = self.threshold
        if op is Op.GT:
            return value > t - hysteresis
        if op is Op.GE:
            return value >= t - hysteresis
        if op is Op.LT:
            return value < t + hysteresis
        if op is Op.LE:
            return value <= t + hysteresis
        return value == t

    def describe_zh(self, label: str, unit: str) -> str:
        return f"{label}{_OP_ZH[self.op]} {_fmt(self.threshold)}{unit}"


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One alarm rule of a device.

    - threshold: ``conditions[0]`` breached; clears when it no longer holds with hysteresis.
    - persistence: like threshold, but the condition must hold for ``for_seconds`` first.
    - rate: ``conditions[0].threshold`` compared with the change of the metric per minute.
    - absence: ``conditions`` say what counts as activity (any of them); the alarm raises when
      there has been none for ``absence_seconds``, checked on readings and on clock ticks.
    - composite: ``conditions`` combined with ``combine`` ("all" or "any"), several metrics of
      one device, each taking its latest known value.
    ``for_seconds`` may also delay a threshold, rate or composite rule.
    """

    id: str
    kind: RuleKind
    severity: Severity
    title: str  # Chinese, e.g. "车棚高温高负载"
    conditions: tuple[Condition, ...]
    combine: str = "all"
    hysteresis: float = 0.0
    for_seconds: float = 0.0
    absence_seconds: float = 0.0
    category: str = "Safety"  # CAP category
    source: str = ""  # where the default threshold comes from

    def metrics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.metric for c in self.conditions))


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric a device kind reports: unit, Chinese label and physical range."""

    name: str
    label: str
    unit: str
    minimum: float
    maximum: float
    ngsi_property: str = ""  # Smart Data Models Device.controlledProperty value

    def in_range(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A half-open interval [start, end) in which raising is suppressed."""

    start: datetime
    end: datetime

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class Damping:
    """Flapping damping: when an alarm has changed state (raise or clear) more than
    ``max_transitions`` times within ``window_seconds``, a clear is held back and the alarm
    stays active until its condition has been continuously absent for ``stable_seconds``."""

    max_transitions: int = 4
    window_seconds: float = 600.0
    stable_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class DeviceKind:
    code: str
    label: str
    expected_interval_s: float
    metrics: tuple[MetricSpec, ...]
    rules: tuple[Rule, ...]
    interval_source: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything the engine needs to judge one device: its kind's metrics and rules after
    per-device overrides, its reporting interval and its maintenance windows."""

    kind: str
    expected_interval_s: float
    metrics: dict[str, MetricSpec]
    rules: tuple[Rule, ...]
    maintenance: tuple[MaintenanceWindow, ...] = ()
    damping: Damping = field(default_factory=Damping)
    # each rule with the set of metrics it reads, computed once (the evaluator's hot loop)
    plan: tuple[tuple[Rule, frozenset[str]], ...] = field(init=False, repr=False,
                                                          compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan",
                           tuple((r, frozenset(r.metrics())) for r in self.rules))

    def in_maintenance(self, at: datetime) -> bool:
        return any(w.covers(at) for w in self.maintenance)


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One thing the engine decided. ``rule_id`` is ``health.silence`` / ``health.range.<m>``
    / ``reading.out_of_order`` for device-health events."""

    device_code: str
    rule_id: str
    action: Action
    at: datetime
    severity: Severity
    message: str  # Chinese
    value: float | None = None
    reading_key: str | None = None
    title: str = ""
    category: str = "Safety"
