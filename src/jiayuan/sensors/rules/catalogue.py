"""Device kinds and their default rule sets, as data; per-device overrides merged on top.

The defaults live in ``sensors/data/device_kinds.json`` with the source of every threshold
beside it. A rule's id is ``<kind>.<short id>`` (``ebike_shed.hot_and_loaded``). Overrides
are plain dicts (a JSON column on the device row)::

    {"expected_interval_s": 1800,
     "rules": {"no_activity": {"absence_seconds": 43200, "severity": "Extreme"},
               "hot_and_loaded": {"thresholds": [55, 80]},
               "battery_low": {"enabled": false}},
     "extra_rules": [{"id": "cold", "kind": "threshold", ...}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jiayuan.sensors.rules.model import (
    Condition,
    Damping,
    DeviceKind,
    MaintenanceWindow,
    MetricSpec,
    Op,
    Rule,
    RuleConfigError,
    RuleKind,
    RuleSet,
    Severity,
)

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "device_kinds.json"

COMMON_METRICS = (
    MetricSpec("battery", "电池电量", "%", 0, 100, "batteryLevel"),
    MetricSpec("rssi", "信号强度", "dBm", -150, 0, "rssi"),
)
_RULE_KEYS = {"id", "kind", "severity", "title", "conditions", "combine", "hysteresis",
              "for_seconds", "absence_seconds", "category", "source"}
_OVERRIDE_KEYS = {"threshold", "thresholds", "hysteresis", "for_seconds", "absence_seconds",
                  "severity", "enabled"}
_CAP_CATEGORIES = {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                   "Transport", "Infra", "CBRNE", "Other"}


def _bad(message: str) -> RuleConfigError:
    return RuleConfigError(message)


def _number(raw: Any, what: str, *, minimum: float | None = 0.0) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _bad(f"{what} 应为数值")
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise _bad(f"{what} 应为有限数值")
    if minimum is not None and value < minimum:
        raise _bad(f"{what} 不能小于 {minimum:g}")
    return value


def parse_rule(kind_code: str, raw: Mapping[str, Any],
               metrics: Mapping[str, MetricSpec]) -> Rule:
    """Build and check one rule. Refuses unknown keys, kinds, severities, operators,
    metrics the kind does not report, and shapes that do not fit the kind (a persistence
    rule without ``for_seconds``, an absence rule without ``absence_seconds``, a composite
    of fewer than two conditions, a threshold/rate rule of more than one)."""
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise _bad(f"规则含未知字段：{', '.join(sorted(unknown))}")
    short = raw.get("id")
    if not isinstance(short, str) or not short or "." in short:
        raise _bad("规则 id 应为不含点号的非空字符串")
    rid = f"{kind_code}.{short}"
    try:
        kind = RuleKind(str(raw.get("kind")))
        severity = Severity(str(raw.get("severity")))
    except ValueError:
        raise _bad(f"规则 {rid} 的类型或严重程度无效") from None
    conds_raw = raw.get("conditions")
    if not isinstance(conds_raw, list) or not conds_raw:
        raise _bad(f"规则 {rid} 缺少条件")
    conditions = []
    for c in conds_raw:
        if not isinstance(c, list | tuple) or len(c) != 3:
            raise _bad(f"规则 {rid} 的条件应为 [指标, 运算符, 阈值]")
        metric, op_raw, threshold = c
        if metric not in metrics:
            raise _bad(f"规则 {rid} 引用了该类设备没有的指标 {metric}")
        try:
            op = Op(op_raw)
        except ValueError:
            raise _bad(f"规则 {rid} 的运算符 {op_raw} 无效") from None
        conditions.append(Condition(metric, op, _number(threshold, f"{rid} 阈值", minimum=None)))
    combine = raw.get("combine", "all")
    if combine not in ("all", "any"):
        raise _bad(f"规则 {rid} 的 combine 应为 all 或 any")
    category = raw.get("category", "Safety")
    if category not in _CAP_CATEGORIES:
        raise _bad(f"规则 {rid} 的类别 {category} 不是 CAP 类别")
    rule = Rule(
        id=rid, kind=kind, severity=severity, title=str(raw.get("title") or rid),
        conditions=tuple(conditions), combine=combine,
        hysteresis=_number(raw.get("hysteresis", 0), f"{rid} 回差"),
        for_seconds=_number(raw.get("for_seconds", 0), f"{rid} 持续时间"),
        absence_seconds=_number(raw.get("absence_seconds", 0), f"{rid} 无活动时长"),
        category=category, source=str(raw.get("source", "")),
    )
    check_rule(rule)
    return rule


def check_rule(rule: Rule) -> None:
    """Refuse a rule whose fields do not fit its kind."""
    n = len(rule.conditions)
    if rule.kind in (RuleKind.THRESHOLD, RuleKind.PERSISTENCE, RuleKind.RATE) and n != 1:
        raise _bad(f"规则 {rule.id} 应只有一个条件")
    if rule.kind is RuleKind.COMPOSITE and n < 2:
        raise _bad(f"组合规则 {rule.id} 至少需要两个条件")
    if rule.kind is RuleKind.PERSISTENCE and rule.for_seconds <= 0:
        raise _bad(f"持续规则 {rule.id} 需要正的 for_seconds")
    if rule.kind is RuleKind.ABSENCE and rule.absence_seconds <= 0:
        raise _bad(f"无活动规则 {rule.id} 需要正的 absence_seconds")


def _parse_kind(code: str, raw: Mapping[str, Any]) -> DeviceKind:
    metrics: dict[str, MetricSpec] = {m.name: m for m in COMMON_METRICS}
    for m in raw["metrics"]:
        lo = _number(m["min"], f"{code}.{m['name']} 下限", minimum=None)
        hi = _number(m["max"], f"{code}.{m['name']} 上限", minimum=None)
        if lo >= hi:
            raise _bad(f"{code}.{m['name']} 量程无效")
        metrics[m["name"]] = MetricSpec(m["name"], m["label"], m.get("unit", ""), lo, hi,
                                        m.get("ngsi", ""))
    rules = tuple(parse_rule(code, r, metrics) for r in raw["rules"])
    if len({r.id for r in rules}) != len(rules):
        raise _bad(f"设备类型 {code} 有重复的规则 id")
    interval = _number(raw["expected_interval_s"], f"{code} 上报间隔")
    if interval <= 0:
        raise _bad(f"{code} 上报间隔应为正数")
    return DeviceKind(code=code, label=raw["label"], expected_interval_s=interval,
                      metrics=tuple(metrics.values()), rules=rules,
                      interval_source=raw.get("interval_source", ""))


def load_device_kinds(path: Path | None = None) -> dict[str, DeviceKind]:
    """Read and check the device-kind catalogue (the packaged defaults unless ``path``)."""
    if path is None:
        return dict(_default_kinds())
    return _read(path)


@cache
def _default_kinds() -> dict[str, DeviceKind]:
    return _read(DATA_FILE)


def _read(path: Path) -> dict[str, DeviceKind]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {code: _parse_kind(code, raw) for code, raw in data["kinds"].items()}


def _override_rule(rule: Rule, raw: Mapping[str, Any]) -> Rule | None:
    unknown = set(raw) - _OVERRIDE_KEYS
    if unknown:
        raise _bad(f"规则 {rule.id} 的覆盖项含未知字段：{', '.join(sorted(unknown))}")
    if raw.get("enabled", True) is False:
        return None
    conditions = rule.conditions
    if "threshold" in raw:
        if len(conditions) != 1:
            raise _bad(f"规则 {rule.id} 有多个条件，请用 thresholds")
        thresholds = [raw["threshold"]]
    else:
        thresholds = raw.get("thresholds", [c.threshold for c in conditions])
    if not isinstance(thresholds, list) or len(thresholds) != len(conditions):
        raise _bad(f"规则 {rule.id} 的阈值个数应为 {len(conditions)}")
    conditions = tuple(Condition(c.metric, c.op, _number(t, f"{rule.id} 阈值", minimum=None))
                       for c, t in zip(conditions, thresholds, strict=True))
    try:
        severity = Severity(raw.get("severity", rule.severity))
    except ValueError:
        raise _bad(f"规则 {rule.id} 的严重程度无效") from None
    merged = Rule(
        id=rule.id, kind=rule.kind, severity=severity, title=rule.title,
        conditions=conditions, combine=rule.combine,
        hysteresis=_number(raw.get("hysteresis", rule.hysteresis), f"{rule.id} 回差"),
        for_seconds=_number(raw.get("for_seconds", rule.for_seconds), f"{rule.id} 持续时间"),
        absence_seconds=_number(raw.get("absence_seconds", rule.absence_seconds),
                                f"{rule.id} 无活动时长"),
        category=rule.category, source=rule.source + "（本设备已覆盖）",
    )
    check_rule(merged)
    return merged


def rule_set_for(
    kind: DeviceKind | str,
    overrides: Mapping[str, Any] | None = None,
    *,
    maintenance: Iterable[MaintenanceWindow] = (),
    damping: Damping | None = None,
) -> RuleSet:
    """The rules one device is judged by: its kind's defaults with ``overrides`` merged.

    Refuses (``RuleConfigError``) an unknown kind, unknown override keys, overrides of rules
    the kind does not have, and any merged rule that no longer fits its kind. Nothing is
    half-applied: either the whole override is valid or the call fails.
    """
    if isinstance(kind, str):
        kinds = _default_kinds()
        if kind not in kinds:
            raise _bad(f"未知的设备类型 {kind}")
        kind = kinds[kind]
    overrides = overrides or {}
    unknown = set(overrides) - {"expected_interval_s", "rules", "extra_rules"}
    if unknown:
        raise _bad(f"设备覆盖配置含未知字段：{', '.join(sorted(unknown))}")
    metrics = {m.name: m for m in kind.metrics}
    by_short = {r.id.split(".", 1)[1]: r for r in kind.rules}
    rule_overrides = overrides.get("rules", {})
    missing = set(rule_overrides) - set(by_short)
    if missing:
        raise _bad(f"覆盖了不存在的规则：{', '.join(sorted(missing))}")
    rules: list[Rule] = []
    for short, rule in by_short.items():
        merged = _override_rule(rule, rule_overrides[short]) if short in rule_overrides \
            else rule
        if merged is not None:
            rules.append(merged)
    for raw in overrides.get("extra_rules", []):
        extra = parse_rule(kind.code, raw, metrics)
        if any(r.id == extra.id for r in rules):
            raise _bad(f"新增规则 {extra.id} 与已有规则重名")
        rules.append(extra)
    interval = _number(overrides.get("expected_interval_s", kind.expected_interval_s),
                       "上报间隔")
    if interval <= 0:
        raise _bad("上报间隔应为正数")
    windows = tuple(maintenance)
    for w in windows:
        if w.start.tzinfo is None or w.end.tzinfo is None or w.end <= w.start:
            raise _bad("维护时段应为带时区且结束晚于开始的时间段")
    return RuleSet(kind=kind.code, expected_interval_s=interval, metrics=metrics,
                   rules=tuple(rules), maintenance=windows,
                   damping=damping or Damping())
