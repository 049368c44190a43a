"""The whole computation: values panel → thresholds per type → Z → points, per period.

Each compound type is scored on its own (seed l.998: "各自独立测评，互不影响"): thresholds,
samples and medians never mix types. Self-growth leaves (``growth_of``) are computed from the
compound's own earlier periods after the other dimensions are scored.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .aggregate import DEFAULT_COVERAGE, Aggregated, Aggregation, Structure, aggregate, structure
from .catalogue import BoolArray, Catalogue, FloatArray, IntArray
from .errors import OptionInvalid, PanelInvalid, ThresholdsInvalid
from .normalise import (
    NORMALISATIONS,
    Normalisation,
    apply_transform,
    distance_to_target,
    minmax,
    rank,
    skewness_kurtosis,
    winsorise,
    zscore,
)
from .thresholds import (
    PushMode,
    TypeThresholds,
    cochran_sample_size,
    draw_sample,
    goalposts_from_reference,
    simple_moving_average,
)


@dataclass(frozen=True)
class Panel:
    """Raw values: ``values[c, p, j]`` for compound c, period p, leaf j (catalogue order).

    Periods sort as strings ("2021" < "2022"; use ISO-like labels). NaN means missing.
    """

    compounds: tuple[str, ...]
    types: tuple[str, ...]
    periods: tuple[str, ...]
    values: FloatArray

    def __post_init__(self) -> None:
        c, p = len(self.compounds), len(self.periods)
        if self.values.ndim != 3 or self.values.shape[:2] != (c, p):
            raise PanelInvalid("数据数组的形状与小区、期数不符")
        if len(self.types) != c:
            raise PanelInvalid("每个小区必须有且只有一个类型")
        if len(set(self.compounds)) != c:
            raise PanelInvalid("小区代码重复")
        if list(self.periods) != sorted(set(self.periods)):
            raise PanelInvalid("期数必须唯一且按顺序排列")

    @classmethod
    def from_records(
        cls,
        records: Iterable[tuple[str, str, str, str, float]],
        catalogue: Catalogue,
    ) -> Panel:
        """Build a panel from (compound, type, period, leaf code, value) records.

        Refuses an unknown code, a compound given two types, a repeated record.
        """
        codes = {c: j for j, c in enumerate(catalogue.codes)}
        rows = list(records)
        comp_type: dict[str, str] = {}
        for comp, typ, _per, code, _v in rows:
            if code not in codes:
                raise PanelInvalid(f"未知指标：{code}")
            if comp_type.setdefault(comp, typ) != typ:
                raise PanelInvalid(f"小区 {comp} 有多个类型")
        compounds = tuple(sorted(comp_type))
        periods = tuple(sorted({r[2] for r in rows}))
        ci = {c: i for i, c in enumerate(compounds)}
        pi = {p: i for i, p in enumerate(periods)}
        values = np.full((len(compounds), len(periods), len(codes)), np.nan)
        seen: set[tuple[str, str, str]] = set()
        for comp, _typ, per, code, v in rows:
            key = (comp, per, code)
            if key in seen:
                raise PanelInvalid(f"重复数据：{comp} {per} {code}")
            seen.add(key)
            values[ci[comp], pi[per], codes[code]] = float(v)
        return cls(compounds, tuple(comp_type[c] for c in compounds), periods, values)


@dataclass(frozen=True)
class ComputeOptions:
    """Every knob of the method; the defaults are the published method.

    ``fixed_thresholds`` maps (compound_type, leaf code) → (x_min, x_max) in raw units and
    replaces the drawn goalposts for those leaves; a type whose every leaf is fixed draws no
    sample. ``targets`` (leaf code → target value) serve the ``target`` normalisation; a leaf
    without one targets its better goalpost.
    """

    normalisation: Normalisation = "minmax"
    aggregation: Aggregation = "arithmetic"
    coverage_threshold: float = DEFAULT_COVERAGE
    confidence: float = 0.95
    margin: float = 0.10
    proportion: float = 0.5
    push_fraction: float = 0.10
    push_mode: PushMode = "relative"
    base_window: int = 3
    base_period: str | None = None
    growth_window: int = 1
    seed: int = 0
    relative_weights: FloatArray | None = None
    dimension_weights: FloatArray | None = None
    skew_treatment: str = "none"  # none | winsorise | log
    winsor_quantile: float = 0.05
    geometric_floor: float = 0.0
    fixed_thresholds: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    targets: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexResult:
    """Everything computed: inputs as used, thresholds, Z and points per compound and period."""

    catalogue: Catalogue
    panel: Panel
    options: ComputeOptions
    x: FloatArray  # (C, P, L) values incl. derived growth values, raw units
    z: FloatArray  # (C, P, L) normalised, [0, 1]
    thresholds: Mapping[str, TypeThresholds]
    structure: Structure
    scores: Aggregated  # arrays of shape (C, P, …)
    skew_treated: tuple[str, ...]
    transforms: tuple[str, ...]

    @property
    def type_groups(self) -> IntArray:
        kinds = sorted(set(self.panel.types))
        return np.array([kinds.index(t) for t in self.panel.types], dtype=np.intp)

    def unscored(self) -> list[tuple[str, str, str, float]]:
        """(compound, period, reason, coverage) for every compound-period left without a score."""
        out: list[tuple[str, str, str, float]] = []
        names = {1.0: "coverage_below_threshold", 2.0: "dimension_without_data"}
        for c, p in zip(*np.nonzero(~self.scores.scored), strict=True):
            out.append(
                (
                    self.panel.compounds[c],
                    self.panel.periods[p],
                    names[float(self.scores.reason[c, p])],
                    float(self.scores.coverage[c, p]),
                )
            )
        return out


def _check_options(o: ComputeOptions, periods: Sequence[str]) -> int:
    if o.normalisation not in NORMALISATIONS:
        raise OptionInvalid(f"未知的无量纲化方法：{o.normalisation}")
    if o.skew_treatment not in ("none", "winsorise", "log"):
        raise OptionInvalid(f"未知的偏态处理：{o.skew_treatment}")
    if o.growth_window < 1:
        raise OptionInvalid("成长比较窗口至少为 1")
    if o.base_period is None:
        return len(periods) - 1
    if o.base_period not in periods:
        raise OptionInvalid(f"基期 {o.base_period} 不在数据中")
    return periods.index(o.base_period)


def normalise_values(
    x: FloatArray,
    thresholds: Mapping[str, TypeThresholds],
    types: Sequence[str],
    catalogue: Catalogue,
    method: Normalisation,
    *,
    targets: Mapping[str, float] | None = None,
    transforms: Sequence[str] | None = None,
) -> FloatArray:
    """Z of raw values ``x`` (compounds, …, leaves) by ``method``, each type on its own goalposts.

    Goalposts, references and targets are in raw units; the leaf transform (log, log1p) is
    applied to values and goalposts alike. ``zscore`` standardises against the sample's
    reference values (or, for a type without a sample, the type's values of each period).
    ``rank`` ranks within type along axis 0 separately for every other leading index.
    """
    tf = [i.transform for i in catalogue.indicators] if transforms is None else list(transforms)
    tx = apply_transform(x, tf)  # type: ignore[arg-type]
    inverse = catalogue.inverse
    z = np.full(x.shape, np.nan)
    type_arr = np.array(types)
    for t, th in thresholds.items():
        rows = np.flatnonzero(type_arr == t)
        if rows.size == 0:
            continue
        xt = tx[rows]
        lo = apply_transform(th.x_min[None, :], tf)[0]  # type: ignore[arg-type]
        hi = apply_transform(th.x_max[None, :], tf)[0]  # type: ignore[arg-type]
        if method == "minmax":
            zt = minmax(xt, lo, hi, inverse)
        elif method == "zscore":
            # no sample (every goalpost fixed): standardise against the type's own population
            ref_raw = th.reference if th.reference.shape[0] > 0 else xt
            ref = apply_transform(ref_raw, tf) if ref_raw is th.reference else ref_raw  # type: ignore[arg-type]
            with warnings.catch_warnings(action="ignore", category=RuntimeWarning):
                mean = np.nanmean(ref, axis=0)
                sd = np.nanstd(ref, axis=0)
            zt = zscore(xt, mean, sd, inverse)
        elif method == "rank":
            flat = np.moveaxis(xt, 0, -2)  # (..., rows, L)
            zt_flat = np.empty_like(flat)
            for idx in np.ndindex(flat.shape[:-2]):
                zt_flat[idx] = rank(flat[idx], np.zeros(rows.size, np.intp), inverse)
            zt = np.moveaxis(zt_flat, -2, 0)
        else:
            tg = np.where(inverse, lo, hi)
            worst = np.where(inverse, hi, lo)
            for code, value in (targets or {}).items():
                j = catalogue.index_of(code)
                tg[j] = apply_transform(np.full((1, len(tf)), value), tf)[0, j]  # type: ignore[arg-type]
            zt = distance_to_target(xt, tg, worst)
        # goalposts missing for a leaf → that leaf is missing for the type
        z[rows] = np.where(np.isnan(lo) | np.isnan(hi), np.nan, zt)
    return np.where(np.isnan(tx), np.nan, z)



def _growth_source(
    name: str, catalogue: Catalogue, agg: Aggregated, x: FloatArray
) -> FloatArray:
    if name in catalogue.dimensions:
        return agg.dimension_points[..., catalogue.dimensions.index(name)]
    if name in catalogue.subindices:
        return agg.subindex_points[..., catalogue.subindices.index(name)]
    return x[..., catalogue.index_of(name)]


def growth_values(source: FloatArray, window: int) -> FloatArray:
    """X_t = S_t − mean(S_{t−window} … S_{t−1}) along axis 1 (periods); NaN without history.

    The mean skips missing earlier periods; with none available the value is missing.
    """
    out = np.full(source.shape, np.nan)
    for p in range(1, source.shape[1]):
        prev = source[:, max(0, p - window) : p]
        ok = ~np.isnan(prev)
        cnt = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(cnt > 0, np.where(ok, prev, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
        out[:, p] = source[:, p] - mean
    return out


def compute_index(
    panel: Panel, catalogue: Catalogue, options: ComputeOptions | None = None
) -> IndexResult:
    """Score every compound and period of ``panel`` by ``catalogue`` with ``options``.

    Steps: (1) per type, Cochran sample of compounds (seeded), each sampled compound's SMA of
    its last ``base_window`` periods up to the base period, goalposts pushed outward;
    (2) Z of the non-growth leaves, dimension points; (3) growth values from the compound's
    own earlier periods, their goalposts from the same sample; (4) Z of all leaves and the
    final points. Refuses a values array whose leaves differ from the catalogue, fixed
    thresholds with x_min > x_max, and unknown options.
    """
    o = options or ComputeOptions()
    base = _check_options(o, panel.periods)
    n_leaf = len(catalogue.indicators)
    if panel.values.shape[2] != n_leaf:
        raise PanelInvalid("数据的指标数与目录不符")
    codes = catalogue.codes
    for (t, code), (lo, hi) in o.fixed_thresholds.items():
        if code not in codes:
            raise ThresholdsInvalid(f"阈值中的指标 {code} 不在目录中")
        if not lo <= hi:
            raise ThresholdsInvalid(f"{t} {code} 的下限阈值大于上限阈值")
    growth = catalogue.growth
    st = structure(catalogue, o.relative_weights, o.dimension_weights)
    rng = np.random.default_rng(o.seed)
    transforms: list[str] = [i.transform for i in catalogue.indicators]

    x = np.array(panel.values, dtype=np.float64, copy=True)
    x[..., growth] = np.nan
    type_arr = np.array(panel.types)
    kinds = sorted(set(panel.types))

    # (1) samples and goalposts of the non-growth leaves
    samples: dict[str, IntArray] = {}
    fixed: dict[str, BoolArray] = {}
    for t in kinds:
        rows = np.flatnonzero(type_arr == t)
        fx = np.array([(t, c) in o.fixed_thresholds for c in codes], dtype=np.bool_)
        fixed[t] = fx
        if fx.all():
            samples[t] = np.zeros(0, np.intp)
            continue
        n = cochran_sample_size(
            rows.size, confidence=o.confidence, margin=o.margin, proportion=o.proportion
        )
        picked = set(draw_sample([panel.compounds[r] for r in rows], n, rng))
        samples[t] = np.array([r for r in rows if panel.compounds[r] in picked], np.intp)

    skew_treated: list[str] = []
    if o.skew_treatment == "log":
        all_ref = simple_moving_average(x, base, o.base_window)
        sk, ku = skewness_kurtosis(all_ref)
        for j in range(n_leaf):
            nonneg = bool(np.nanmin(all_ref[:, j]) >= 0) if not np.all(np.isnan(all_ref[:, j])) else False
            if not growth[j] and transforms[j] == "none" and abs(sk[j]) > 2 and ku[j] > 3.5 and nonneg:
                transforms[j] = "log1p"
                skew_treated.append(codes[j])

    def goalposts(values: FloatArray, leaves: BoolArray) -> dict[str, TypeThresholds]:
        out: dict[str, TypeThresholds] = {}
        for t in kinds:
            rows = np.flatnonzero(type_arr == t)
            ref = simple_moving_average(values[samples[t]], base, o.base_window)
            ref_used = ref
            if o.skew_treatment == "winsorise" and ref.shape[0] > 0:
                sk, ku = skewness_kurtosis(ref)
                flagged = (np.abs(sk) > 2) & (ku > 3.5) & leaves
                if flagged.any():
                    ref_used = ref.copy()
                    ref_used[:, flagged] = winsorise(ref[:, flagged], o.winsor_quantile)
                    for jf in np.flatnonzero(flagged):
                        if codes[jf] not in skew_treated:
                            skew_treated.append(codes[jf])
            if ref_used.shape[0] > 0:
                lo, hi = goalposts_from_reference(
                    ref_used, fraction=o.push_fraction, mode=o.push_mode
                )
            else:
                lo = np.full(n_leaf, np.nan)
                hi = np.full(n_leaf, np.nan)
            for j, c in enumerate(codes):
                if fixed[t][j]:
                    lo[j], hi[j] = o.fixed_thresholds[(t, c)]
            out[t] = TypeThresholds(
                compound_type=t,
                x_min=lo,
                x_max=hi,
                population=int(rows.size),
                sample=tuple(panel.compounds[r] for r in samples[t]),
                reference=ref_used,
                fixed=fixed[t],
            )
        return out

    th1 = goalposts(x, ~growth)
    z = normalise_values(
        x, th1, panel.types, catalogue, o.normalisation, targets=o.targets, transforms=transforms
    )
    if growth.any():
        # (2) dimension points without the growth leaves (re-weighted, no coverage cut)
        first = aggregate(
            np.where(growth, np.nan, z), st, method="arithmetic", coverage_threshold=0.0,
            geometric_floor=o.geometric_floor, blank_unscored=False,
        )
        # (3) growth values against the compound's own earlier periods
        for jg in np.flatnonzero(growth):
            name = catalogue.indicators[jg].growth_of
            assert name is not None
            x[..., jg] = growth_values(_growth_source(name, catalogue, first, x), o.growth_window)
        th2 = goalposts(x, growth)
        thresholds = {
            t: TypeThresholds(
                t,
                np.where(growth, th2[t].x_min, th1[t].x_min),
                np.where(growth, th2[t].x_max, th1[t].x_max),
                th1[t].population,
                th1[t].sample,
                np.where(growth, th2[t].reference, th1[t].reference),
                th1[t].fixed,
            )
            for t in kinds
        }
        z = normalise_values(
            x, thresholds, panel.types, catalogue, o.normalisation, targets=o.targets,
            transforms=transforms,
        )
    else:
        thresholds = th1
    # (4) final points
    scores = aggregate(
        z, st, method=o.aggregation, coverage_threshold=o.coverage_threshold,
        geometric_floor=o.geometric_floor,
    )
    return IndexResult(
        catalogue, panel, o, x, z, thresholds, st, scores, tuple(skew_treated), tuple(transforms)
    )
