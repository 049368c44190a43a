"""Thresholds (上下限阈值): Cochran sample size, random sample, base-period SMA, outward push.

The published procedure (seed l.1002-1006): per compound type, draw a random sample of
compounds ("无作为抽出", e.g. 91 of 1,590 commodity compounds at 95 % confidence and a 10 %
interval), take each sampled compound's base-period reference value — the simple moving
average of its last three years — and push the sample's maximum and minimum outward by 10 %
("最大值与最小值分别顺延 10%") to get Xmax and Xmin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np

from .catalogue import BoolArray, FloatArray
from .errors import OptionInvalid

PushMode = Literal["relative", "range"]


def z_for_confidence(confidence: float) -> float:
    """Two-sided standard-normal quantile for ``confidence`` (0.95 → 1.959964…)."""
    if not 0.0 < confidence < 1.0:
        raise OptionInvalid("置信度必须在 0 与 1 之间")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def cochran_sample_size(
    population: int, *, confidence: float = 0.95, margin: float = 0.10, proportion: float = 0.5
) -> int:
    """Cochran's n₀ = z²·p(1−p)/e² with the finite-population correction n = n₀/(1 + (n₀−1)/N).

    Rounded up, never more than N. 1,590 commodity compounds at 95 % and ±10 % give 91, the
    seed's example (l.1004). Refuses N < 0, a margin outside (0, 1), p outside (0, 1).
    """
    if population < 0:
        raise OptionInvalid("总体数量不能为负")
    if not 0.0 < margin < 1.0 or not 0.0 < proportion < 1.0:
        raise OptionInvalid("允许误差与比例必须在 0 与 1 之间")
    if population == 0:
        return 0
    z = z_for_confidence(confidence)
    n0 = z * z * proportion * (1.0 - proportion) / (margin * margin)
    n = n0 / (1.0 + (n0 - 1.0) / population)
    # guard against 90.0000000001-style float noise before rounding up
    return min(population, math.ceil(round(n, 9)))


def draw_sample(
    codes: Sequence[str], size: int, rng: np.random.Generator
) -> tuple[str, ...]:
    """Draw ``size`` distinct codes uniformly at random (sorted first, so a seed reproduces it)."""
    pool = sorted(codes)
    if size >= len(pool):
        return tuple(pool)
    picked = rng.choice(len(pool), size=size, replace=False)
    return tuple(pool[i] for i in sorted(int(k) for k in picked))


def simple_moving_average(values: FloatArray, base: int, window: int = 3) -> FloatArray:
    """Mean of periods ``base−window+1 … base`` (axis 1 of a (compounds, periods, leaves) array).

    Missing periods are skipped (a compound with only two years averages those two); a
    compound with none of them is NaN. Refuses window < 1.
    """
    if window < 1:
        raise OptionInvalid("移动平均窗口至少为 1")
    start = max(0, base - window + 1)
    block = values[:, start : base + 1, :]
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(block)
        counts = ok.sum(axis=1)
        sums = np.where(ok, block, 0.0).sum(axis=1)
        return np.asarray(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), np.float64)


def push_outward(
    lo: FloatArray, hi: FloatArray, *, fraction: float = 0.10, mode: PushMode = "relative"
) -> tuple[FloatArray, FloatArray]:
    """Push the sample minimum down and maximum up by ``fraction``.

    ``relative`` (default, the seed's literal reading of "最大值与最小值分别顺延 10%"): each end
    moves by 10 % of its own magnitude, Xmax = max + 0.1·|max|, Xmin = min − 0.1·|min| (so
    max·1.1 and min·0.9 for positive data; a zero end stays put).
    ``range``: both ends move by 10 % of the sample range, Xmax = max + 0.1·(max − min),
    Xmin = min − 0.1·(max − min); unlike ``relative`` this is invariant to adding a constant.
    Refuses a negative fraction or an unknown mode.
    """
    if fraction < 0:
        raise OptionInvalid("顺延比例不能为负")
    if mode == "relative":
        return lo - fraction * np.abs(lo), hi + fraction * np.abs(hi)
    if mode == "range":
        span = hi - lo
        return lo - fraction * span, hi + fraction * span
    raise OptionInvalid(f"未知的顺延方式：{mode}")


@dataclass(frozen=True)
class TypeThresholds:
    """Goalposts of one compound type, in raw (untransformed) units, catalogue order.

    ``reference`` holds the sampled compounds' base-period values (rows = ``sample``) that the
    goalposts came from; ``fixed`` marks leaves whose goalposts were given, not drawn.
    """

    compound_type: str
    x_min: FloatArray
    x_max: FloatArray
    population: int
    sample: tuple[str, ...]
    reference: FloatArray
    fixed: BoolArray

    @property
    def sample_size(self) -> int:
        return len(self.sample)


def goalposts_from_reference(
    reference: FloatArray, *, fraction: float = 0.10, mode: PushMode = "relative"
) -> tuple[FloatArray, FloatArray]:
    """Xmin/Xmax of each column of the sample's reference values, pushed outward.

    A column with no value at all gives NaN goalposts (that leaf is then missing for the type).
    """
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(reference)
        has = ok.any(axis=0)
        lo = np.where(has, np.min(np.where(ok, reference, np.inf), axis=0), np.nan)
        hi = np.where(has, np.max(np.where(ok, reference, -np.inf), axis=0), np.nan)
    return push_outward(lo, hi, fraction=fraction, mode=mode)
