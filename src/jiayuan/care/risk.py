"""Risk score of an elderly person living alone (独居老人): high / medium / low.

Pure (no Django): attributes and active sensor signals in, an :class:`Assessment` out. The
points and thresholds are data (``care/data/risk.json``, documented in ``docs/care.md``);
:func:`load_weights` refuses a table that would make the score non-monotone.

Two promises, property-tested in ``tests/test_risk_properties.py``:

* **monotone in attributes**: a worse value of any attribute (older, poorer health, more
  chronic conditions, less mobile, weaker cognition, poorer housing, stairs without a lift,
  less care, no children nearby, no emergency contact) never lowers the score or the level;
* **signals only raise**: adding an active signal (no activity, panic button, smoke) never
  lowers the score or the level. Each signal adds points and sets a minimum level.

Visit intervals by level are in the same table (:func:`visit_interval_days`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).parent / "data" / "risk.json"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)


LEVEL_ORDER: tuple[Level, ...] = (Level.LOW, Level.MEDIUM, Level.HIGH)
LEVEL_LABELS: dict[Level, str] = {Level.LOW: "低", Level.MEDIUM: "中", Level.HIGH: "高"}

# Each ordinal attribute: its values from best to worst (the order monotonicity refers to).
HEALTH = ("good", "fair", "poor")
MOBILITY = ("independent", "assisted", "bedridden")
COGNITION = ("normal", "mild", "severe")
LIVING_CONDITIONS = ("good", "fair", "poor")
CARER = ("regular", "occasional", "none")
SIGNAL_KINDS = ("no_activity", "panic", "smoke")

ORDINALS: dict[str, tuple[str, ...]] = {
    "health": HEALTH, "mobility": MOBILITY, "cognition": COGNITION,
    "living_conditions": LIVING_CONDITIONS, "carer": CARER,
}

REASON_LABELS: dict[str, str] = {
    "age": "高龄", "health": "健康状况", "chronic_conditions": "慢性病",
    "mobility": "行动能力", "cognition": "认知状况", "living_conditions": "居住条件",
    "stairs_without_elevator": "住楼上且无电梯", "carer": "照护情况",
    "no_children_nearby": "子女不在附近", "no_emergency_contact": "无紧急联系人",
    "no_activity": "长时间无活动信号", "panic": "紧急呼叫按钮", "smoke": "烟感报警",
}


class RiskConfigError(ValueError):
    """The weights table is malformed or would make the score non-monotone."""


@dataclass(frozen=True)
class Attributes:
    """What the register knows of one person. Strings are values of the ORDINALS tuples."""

    age: int
    health: str = "good"
    chronic_conditions: int = 0
    mobility: str = "independent"
    cognition: str = "normal"
    living_conditions: str = "good"
    stairs_without_elevator: bool = False
    carer: str = "regular"
    children_nearby: bool = True
    has_emergency_contact: bool = True


@dataclass(frozen=True)
class SignalRule:
    points: int
    min_level: Level


@dataclass(frozen=True)
class Weights:
    age_bands: tuple[tuple[int, int], ...]
    ordinal: Mapping[str, Mapping[str, int]]
    per_chronic_condition: int
    chronic_max: int
    stairs_without_elevator: int
    no_children_nearby: int
    no_emergency_contact: int
    signals: Mapping[str, SignalRule]
    medium_at: int
    high_at: int
    visit_interval_days: Mapping[Level, int]


@dataclass(frozen=True)
class Assessment:
    score: int
    level: Level
    reasons: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    def reason_labels(self) -> list[str]:
        return [f"{REASON_LABELS.get(k, k)} +{p}" for k, p in self.reasons]


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RiskConfigError(f"{what} 必须是非负整数")
    return value


def parse_weights(raw: Mapping[str, Any]) -> Weights:
    """Check and build a weights table; refuses negative points, unknown or missing values,
    and any table in which a worse value would score fewer points than a better one."""
    try:
        bands = tuple((_int(a, "age_bands"), _int(p, "age_bands")) for a, p in raw["age_bands"])
        if not bands or any(b[0] >= c[0] or b[1] > c[1] for b, c in zip(bands, bands[1:], strict=False)):
            raise RiskConfigError("age_bands 必须按年龄递增且分值不减")
        ordinal: dict[str, dict[str, int]] = {}
        for name, order in ORDINALS.items():
            table = raw[name]
            if set(table) != set(order):
                raise RiskConfigError(f"{name} 的取值必须是 {', '.join(order)}")
            pts = [_int(table[v], name) for v in order]
            if any(a > b for a, b in zip(pts, pts[1:], strict=False)):
                raise RiskConfigError(f"{name} 的分值必须随情况变差而不减")
            ordinal[name] = dict(zip(order, pts, strict=True))
        signals: dict[str, SignalRule] = {}
        for kind in SIGNAL_KINDS:
            s = raw["signals"][kind]
            signals[kind] = SignalRule(points=_int(s["points"], kind), min_level=Level(s["min_level"]))
        th = raw["thresholds"]
        medium_at, high_at = _int(th["medium"], "thresholds"), _int(th["high"], "thresholds")
        if not 0 < medium_at <= high_at:
            raise RiskConfigError("阈值必须满足 0 < medium ≤ high")
        intervals = {Level(k): _int(v, "visit_interval_days")
                     for k, v in raw["visit_interval_days"].items()}
        if set(intervals) != set(LEVEL_ORDER) or any(v < 1 for v in intervals.values()):
            raise RiskConfigError("visit_interval_days 必须为每个等级给出至少 1 天")
        if not intervals[Level.HIGH] <= intervals[Level.MEDIUM] <= intervals[Level.LOW]:
            raise RiskConfigError("风险越高，走访间隔不能越长")
        return Weights(
            age_bands=bands, ordinal=ordinal,
            per_chronic_condition=_int(raw["chronic_conditions"]["per_condition"], "chronic"),
            chronic_max=_int(raw["chronic_conditions"]["max"], "chronic"),
            stairs_without_elevator=_int(raw["stairs_without_elevator"], "stairs"),
            no_children_nearby=_int(raw["no_children_nearby"], "children"),
            no_emergency_contact=_int(raw["no_emergency_contact"], "contact"),
            signals=signals, medium_at=medium_at, high_at=high_at,
            visit_interval_days=intervals,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, RiskConfigError):
            raise
        raise RiskConfigError(f"风险权重表格式有误：{exc}") from exc


@lru_cache(maxsize=1)
def load_weights(path: str = str(DATA_FILE)) -> Weights:
    with open(path, encoding="utf-8") as fh:
        return parse_weights(json.load(fh))


def _age_points(age: int, bands: tuple[tuple[int, int], ...]) -> int:
    pts = 0
    for min_age, p in bands:
        if age >= min_age:
            pts = p
    return pts


def level_for(score: int, weights: Weights) -> Level:
    if score >= weights.high_at:
        return Level.HIGH
    if score >= weights.medium_at:
        return Level.MEDIUM
    return Level.LOW


def assess(attrs: Attributes, signals: Iterable[str] = (), *,
           weights: Weights | None = None) -> Assessment:
    """Score ``attrs`` plus the active ``signals``; refuses unknown values (ValueError)."""
    w = weights or load_weights()
    if attrs.age < 0 or attrs.chronic_conditions < 0:
        raise ValueError("年龄和慢性病数量不能为负")
    parts: list[tuple[str, int]] = [("age", _age_points(attrs.age, w.age_bands))]
    for name in ORDINALS:
        value = getattr(attrs, name)
        if value not in w.ordinal[name]:
            raise ValueError(f"{name} 取值无效：{value}")
        parts.append((name, w.ordinal[name][value]))
    parts.append(("chronic_conditions",
                  min(attrs.chronic_conditions * w.per_chronic_condition, w.chronic_max)))
    if attrs.stairs_without_elevator:
        parts.append(("stairs_without_elevator", w.stairs_without_elevator))
    if not attrs.children_nearby:
        parts.append(("no_children_nearby", w.no_children_nearby))
    if not attrs.has_emergency_contact:
        parts.append(("no_emergency_contact", w.no_emergency_contact))
    floor = Level.LOW
    for kind in sorted(set(signals)):
        if kind not in w.signals:
            raise ValueError(f"未知的信号类型：{kind}")
        rule = w.signals[kind]
        parts.append((kind, rule.points))
        if rule.min_level.rank > floor.rank:
            floor = rule.min_level
    score = sum(p for _, p in parts)
    level = level_for(score, w)
    if floor.rank > level.rank:
        level = floor
    return Assessment(score=score, level=level, reasons=tuple((k, p) for k, p in parts if p))


def visit_interval_days(level: Level | str, weights: Weights | None = None) -> int:
    """Days between visits for a risk level (high weekly, medium fortnightly, low monthly)."""
    w = weights or load_weights()
    return w.visit_interval_days[Level(level)]
