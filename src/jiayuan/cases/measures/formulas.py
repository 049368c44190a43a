"""The case-loop measures as pure arithmetic: counts in, rates out. No Django.

Every rate is ``numerator / denominator`` over the counts one aggregate query returns for a
group (a unit, a neighbourhood, a subdistrict, or the whole area) and a period; an empty
denominator gives ``None`` (no cases to judge), never 0. The definitions, their sources and
how firm they are live in docs/case-measures.md and in :data:`MEASURES`, from which the page
headers and the workbook's definitions sheet are drawn, so they are written once.

Sources: /work/shared/data/cn-urban-management-reference.md §Evaluation indicators
([R] = seen in a public implementation's reading, [C] = confirmed in a published source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from jiayuan.core.errors import ValidationFailed

# 满意率 = (满意 + 0.9 × 基本满意) / 有效回访 [R] (reference §Evaluation indicators).
BASICALLY_SATISFIED_WEIGHT = 0.9
# Our reading [U]: a case is "responded to" when it is accepted or rejected within 24 calendar
# hours of the report (the Beijing draft standard's 24 h feedback limit [C]).
RESPONSE_LIMIT_HOURS = 24.0


@dataclass(frozen=True)
class Weights:
    """Weights of the three-rates composite (三率综合). Defaults 0.1/0.5/0.4 [R]; another
    place uses 0.30/0.35/0.35 [C]. Refuses negative weights and weights not summing to 1."""

    response: float = 0.1
    resolution: float = 0.5
    satisfaction: float = 0.4

    def __post_init__(self) -> None:
        values = (self.response, self.resolution, self.satisfaction)
        if any((not math.isfinite(v)) or v < 0 for v in values):
            raise ValidationFailed("三率权重不能为负数", details={"weights": list(values)})
        if not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ValidationFailed(f"三率权重之和必须为 1，现为 {sum(values):g}",
                                   details={"weights": list(values)})


@dataclass(frozen=True)
class MeasureConfig:
    """What a deployment may set: the response limit, the 0.9 weight, the composite weights."""

    response_limit_hours: float = RESPONSE_LIMIT_HOURS
    basically_satisfied_weight: float = BASICALLY_SATISFIED_WEIGHT
    weights: Weights = field(default_factory=Weights)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.response_limit_hours) and self.response_limit_hours > 0):
            raise ValidationFailed("响应时限必须为正数（小时）")
        if not (0 <= self.basically_satisfied_weight <= 1):
            raise ValidationFailed("“基本满意”的折算系数必须在 0 到 1 之间")


def config_from_mapping(data: Mapping[str, Any] | None) -> MeasureConfig:
    """A :class:`MeasureConfig` from a settings mapping such as
    ``{"response_limit_hours": 24, "basically_satisfied_weight": 0.9,
    "weights": {"response": 0.1, "resolution": 0.5, "satisfaction": 0.4}}``; missing keys keep
    their defaults. Refuses unknown keys and values that are not numbers."""
    if not data:
        return MeasureConfig()
    known = {"response_limit_hours", "basically_satisfied_weight", "weights"}
    unknown = set(data) - known
    if unknown:
        raise ValidationFailed(f"未知的统计配置项：{'、'.join(sorted(unknown))}")
    try:
        weights = Weights(**{k: float(v) for k, v in dict(data.get("weights") or {}).items()})
        return MeasureConfig(
            response_limit_hours=float(data.get("response_limit_hours", RESPONSE_LIMIT_HOURS)),
            basically_satisfied_weight=float(
                data.get("basically_satisfied_weight", BASICALLY_SATISFIED_WEIGHT)),
            weights=weights,
        )
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"统计配置无效：{exc}") from None


@dataclass(frozen=True)
class Counts:
    """What one aggregate pass counts for one group and period (the cohort: cases reported in
    the period, duplicates merged away excluded). See docs/case-measures.md for each count."""

    reported: int = 0              # 受理范围内的上报数 (not merged)
    due_response: int = 0          # 应响应数: responded, or past the response limit
    responded: int = 0             # 按时响应数: accepted or rejected within the limit
    rejected: int = 0              # 不予受理数
    dispatched: int = 0            # 应处置数: dispatched at least once
    handled: int = 0               # 处置数
    handled_on_time: int = 0       # 按期处置数: handled_at ≤ due_at
    due_closure: int = 0           # 应结案数: valid and (closed, or past its deadline)
    closed: int = 0                # 结案数: state closed or rated
    closed_on_time: int = 0        # 按期结案数: closed_at ≤ due_at
    resolved: int = 0              # 解决数: closed and not rated dissatisfied
    reworked: int = 0              # 返工数: among 应结案, reopened_count > 0
    extended: int = 0              # 延期数: among 应处置, extension_count > 0
    rated: int = 0                 # 有效评价数
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    median_hours_to_close: float | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name != "median_hours_to_close" and (not isinstance(v, int) or v < 0):
                raise ValidationFailed(f"计数“{f.name}”必须是非负整数，收到 {v!r}")
        subsets = (("responded", "due_response"), ("handled_on_time", "handled"),
                   ("closed_on_time", "closed"), ("closed", "due_closure"),
                   ("resolved", "closed"), ("reworked", "due_closure"),
                   ("extended", "dispatched"), ("satisfied", "rated"),
                   ("basically_satisfied", "rated"), ("dissatisfied", "rated"))
        for part, whole in subsets:
            if getattr(self, part) > getattr(self, whole):
                raise ValidationFailed(f"计数不一致：{part} 大于 {whole}")
        if self.satisfied + self.basically_satisfied + self.dissatisfied != self.rated:
            raise ValidationFailed("计数不一致：三档评价之和不等于有效评价数")


def ratio(numerator: float, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    if denominator <= 0:
        return None
    return numerator / denominator


@dataclass(frozen=True)
class Rates:
    response_rate: float | None
    handling_rate: float | None
    on_time_handling_rate: float | None
    closure_rate: float | None
    on_time_closure_rate: float | None
    resolution_rate: float | None
    rework_rate: float | None
    extension_rate: float | None
    satisfaction_rate: float | None
    composite: float | None
    median_hours_to_close: float | None


def satisfaction_rate(satisfied: int, basically_satisfied: int, rated: int,
                      weight: float = BASICALLY_SATISFIED_WEIGHT) -> float | None:
    """(满意 + weight × 基本满意) / 有效评价; None with no rating."""
    return ratio(satisfied + weight * basically_satisfied, rated)


def composite(response: float | None, resolution: float | None, satisfaction: float | None,
              weights: Weights | None = None) -> float | None:
    """The weighted three rates; None unless all three are known (a missing rate is not 0)."""
    w = weights or Weights()
    if response is None or resolution is None or satisfaction is None:
        return None
    return w.response * response + w.resolution * resolution + w.satisfaction * satisfaction


def rates(counts: Counts, config: MeasureConfig | None = None) -> Rates:
    """Every rate of one group and period from its counts."""
    cfg = config or MeasureConfig()
    response = ratio(counts.responded, counts.due_response)
    resolution = ratio(counts.resolved, counts.due_closure)
    satisfaction = satisfaction_rate(counts.satisfied, counts.basically_satisfied,
                                     counts.rated, cfg.basically_satisfied_weight)
    return Rates(
        response_rate=response,
        handling_rate=ratio(counts.handled, counts.dispatched),
        on_time_handling_rate=ratio(counts.handled_on_time, counts.dispatched),
        closure_rate=ratio(counts.closed, counts.due_closure),
        on_time_closure_rate=ratio(counts.closed_on_time, counts.due_closure),
        resolution_rate=resolution,
        rework_rate=ratio(counts.reworked, counts.due_closure),
        extension_rate=ratio(counts.extended, counts.dispatched),
        satisfaction_rate=satisfaction,
        composite=composite(response, resolution, satisfaction, cfg.weights),
        median_hours_to_close=counts.median_hours_to_close,
    )


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count, as PostgreSQL's
    ``percentile_cont(0.5)``); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2.0


@dataclass(frozen=True)
class MeasureDef:
    key: str
    label: str           # Chinese column header
    formula: str         # Chinese formula, as in the docs
    firmness: str        # [C] / [R] / [U] for the source, plus "ours" for our reading
    source: str
    percent: bool = True


MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef("response_rate", "响应率",
               "按时响应数 ÷ 应响应数；按时响应 = 上报后响应时限（默认 24 小时）内受理或不予受理",
               "[R] 定义；时限为本平台解读 [U]",
               "参考资料 §Evaluation indicators：响应率 = 联系数/有效回访；北京 24 小时反馈 [C]"),
    MeasureDef("handling_rate", "处置率", "处置数 ÷ 应处置数（曾派遣的案件）", "[R]",
               "参考资料 §Evaluation indicators：处置率 = 处置数/应处置数"),
    MeasureDef("on_time_handling_rate", "按期处置率",
               "处置时间 ≤ 处置时限的案件数 ÷ 应处置数", "[R]",
               "参考资料 §Evaluation indicators：按期处置率 = 按期处置数/应处置数"),
    MeasureDef("closure_rate", "结案率",
               "结案数（已结案或已评价）÷ 应结案数（有效且已结案或已到期）", "[R]",
               "参考资料 §Evaluation indicators：结案率 = 结案数/应结案数"),
    MeasureDef("on_time_closure_rate", "按期结案率",
               "结案时间 ≤ 处置时限（含已批准的延期）的结案数 ÷ 应结案数", "[R]",
               "参考资料 §Evaluation indicators：按期结案率 = 按期结案数/应结案数"),
    MeasureDef("resolution_rate", "解决率",
               "已结案且评价不为“不满意”的案件数 ÷ 应结案数", "[R] 三率之一；口径为本平台解读 [U]",
               "参考资料 §Evaluation indicators：解决率 = 已解决/有效回访"),
    MeasureDef("rework_rate", "返工率",
               "应结案中曾重办（核查不通过或结案后重办，重办次数 > 0）的案件数 ÷ 应结案数",
               "[R]", "参考资料 §Evaluation indicators：返工率 = 返工数/应结案数"),
    MeasureDef("extension_rate", "延期率",
               "应处置中获批延期（延期次数 > 0）的案件数 ÷ 应处置数", "[R]",
               "参考资料 §Evaluation indicators：延期率 = 延期数/应处置数"),
    MeasureDef("satisfaction_rate", "满意率",
               "（满意数 + 0.9 × 基本满意数）÷ 有效评价数", "[R]",
               "参考资料 §Evaluation indicators：满意率 = (满意 + 0.9×基本满意)/有效回访"),
    MeasureDef("composite", "三率综合",
               "0.1 × 响应率 + 0.5 × 解决率 + 0.4 × 满意率（权重可配置；另有 30/35/35 [C]）",
               "[R]", "参考资料 §Evaluation indicators：composite 0.1/0.5/0.4"),
    MeasureDef("median_hours_to_close", "结案时长中位数（小时）",
               "已结案案件自上报至结案的自然小时数的中位数", "本平台定义", "—", percent=False),
)
