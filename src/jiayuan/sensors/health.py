"""Device health, pure: silence (a device that stopped reporting) and impossible values.

A device is *silent* when nothing has been heard from it for more than twice its expected
reporting interval (exactly 2 x is still fine). The silence event is emitted once; the next
reading emits a recovery. A value outside the physical range of its metric (a smoke
detector at 900 °C, a negative water depth) is a *fault* of the device, never an alarm: the
value is dropped from rule evaluation and a fault event is emitted once per metric until
the metric reads in range again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from jiayuan.sensors.rules.model import Action, AlarmEvent, MetricSpec, Severity

SILENCE_FACTOR = 2.0
SILENCE_RULE = "health.silence"
RANGE_RULE_PREFIX = "health.range."


def silence_deadline(last_heard: float, expected_interval_s: float) -> float:
    """Epoch seconds after which (strictly) the device counts as silent."""
    return last_heard + SILENCE_FACTOR * expected_interval_s


def is_silent(last_heard: float | None, expected_interval_s: float, now: float) -> bool:
    """True when more than 2 x the interval has passed; a never-heard device is not silent
    (it has no baseline; commissioning checks it)."""
    return last_heard is not None and now > silence_deadline(last_heard, expected_interval_s)


def silence_event(device_code: str, last_heard: float, expected_interval_s: float,
                  now: datetime) -> AlarmEvent:
    hours = (now.timestamp() - last_heard) / 3600
    return AlarmEvent(
        device_code=device_code, rule_id=SILENCE_RULE, action=Action.SILENCE, at=now,
        severity=Severity.MINOR, value=round(hours, 2), title="设备离线",
        message=(f"设备已 {hours:.1f} 小时未上报（应每 {expected_interval_s / 3600:g} 小时"
                 f"上报一次，超过两倍间隔视为离线）"),
        category="Infra",
    )


def recovery_event(device_code: str, at: datetime, key: str | None) -> AlarmEvent:
    return AlarmEvent(
        device_code=device_code, rule_id=SILENCE_RULE, action=Action.RECOVERY, at=at,
        severity=Severity.MINOR, title="设备恢复上报", message="设备已恢复上报",
        reading_key=key, category="Infra",
    )


def check_ranges(
    device_code: str,
    values: Mapping[str, float],
    specs: Mapping[str, MetricSpec],
    faults: tuple[str, ...],
    at: datetime,
    key: str | None = None,
) -> tuple[dict[str, float], tuple[str, ...], list[AlarmEvent]]:
    """Split ``values`` into usable ones and faults.

    Returns (in-range values of known metrics, metrics now in fault, events). Metrics the
    kind does not declare are dropped silently (no rule can use them). A fault is reported
    once; a metric back in range reports ``fault_cleared``.
    """
    good: dict[str, float] = {}
    events: list[AlarmEvent] = []
    faulty = set(faults)
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            continue
        if spec.minimum <= value <= spec.maximum:
            good[name] = value
            if name in faulty:
                faulty.discard(name)
                events.append(AlarmEvent(
                    device_code=device_code, rule_id=RANGE_RULE_PREFIX + name,
                    action=Action.FAULT_CLEARED, at=at, severity=Severity.MINOR,
                    value=value, reading_key=key, title=f"{spec.label}读数恢复正常",
                    message=f"{spec.label}读数已回到量程内（{value:g}{spec.unit}）",
                    category="Infra",
                ))
        elif name not in faulty:
            faulty.add(name)
            events.append(AlarmEvent(
                device_code=device_code, rule_id=RANGE_RULE_PREFIX + name,
                action=Action.FAULT, at=at, severity=Severity.MINOR, value=value,
                reading_key=key, title=f"{spec.label}读数异常",
                message=(f"{spec.label}读数 {value:g}{spec.unit} 超出物理量程 "
                         f"[{spec.minimum:g}, {spec.maximum:g}]，疑似设备故障，不作告警处理"),
                category="Infra",
            ))
    return good, tuple(sorted(faulty)), events

