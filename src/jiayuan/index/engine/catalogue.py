"""The indicator catalogue: leaves, their dimension and sub-index, polarity and weight.

A catalogue is data (``index/data/catalogue.csv``), read into frozen dataclasses here. The
engine is general: any dimensions and sub-indices may be declared (the HDI test uses its own);
:data:`DIMENSIONS` and :data:`SUBINDICES` are the published Pudong structure (seed document
002, l.998 and l.1036) that the CLI insists on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .errors import CatalogueInvalid

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]

Polarity = Literal["positive", "inverse"]
Transform = Literal["none", "log", "log1p"]

COMPOUND_TYPES: tuple[str, ...] = ("old_public", "commodity", "resettlement", "affordable")
COMPOUND_TYPE_NAMES: Mapping[str, str] = {
    "old_public": "老旧公房",
    "commodity": "商品房",
    "resettlement": "动迁房",
    "affordable": "保障性住房",
}
DIMENSIONS: tuple[str, ...] = (
    "management_precision",
    "community_vitality",
    "resident_satisfaction",
    "capacity_progress",
)
SUBINDICES: Mapping[str, tuple[str, str]] = {
    "management_precision": ("service_precision", "management_effectiveness"),
    "community_vitality": ("party_leadership", "resident_participation"),
    "resident_satisfaction": ("subjective_satisfaction", "objective_complaints"),
    "capacity_progress": ("resilience", "self_growth"),
}
POINTS_PER_DIMENSION = 25.0
SOURCES = ("platform", "derived", "spreadsheet")
TRANSFORMS: tuple[str, ...] = ("none", "log", "log1p")


@dataclass(frozen=True)
class Indicator:
    """One leaf indicator (四级指标).

    ``weight`` is a relative weight inside its dimension (``None`` = equal split);
    ``growth_of`` names a dimension, sub-index or leaf whose change against the compound's own
    earlier period(s) is this leaf's value (自我成长); such leaves are computed, never supplied.
    """

    code: str
    dimension: str
    subindex: str
    polarity: Polarity = "positive"
    name_zh: str = ""
    name_en: str = ""
    unit: str = ""
    source: str = "spreadsheet"
    derivation: str = ""
    comment: str = ""
    weight: float | None = None
    transform: Transform = "none"
    growth_of: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """An ordered set of leaves with the points each dimension carries.

    Refuses (``CatalogueInvalid``): no leaves, duplicate codes, a sub-index in two dimensions,
    negative weights or a dimension whose weights sum to zero, an unknown ``growth_of`` target,
    a ``growth_of`` target that itself contains growth leaves (a cycle), a dimension without
    points or points without a dimension.
    """

    indicators: tuple[Indicator, ...]
    dimension_points: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems: list[dict[str, Any]] = []
        if not self.indicators:
            problems.append({"row": None, "message": "指标目录为空"})
        seen: set[str] = set()
        sub_dim: dict[str, str] = {}
        for ind in self.indicators:
            if ind.code in seen:
                problems.append({"row": None, "message": f"指标代码重复：{ind.code}"})
            seen.add(ind.code)
            if sub_dim.setdefault(ind.subindex, ind.dimension) != ind.dimension:
                problems.append({"row": None, "message": f"三级指标 {ind.subindex} 属于多个维度"})
            if ind.weight is not None and not (ind.weight >= 0 and np.isfinite(ind.weight)):
                problems.append({"row": None, "message": f"指标 {ind.code} 的权重必须为非负数"})
        dims = list(dict.fromkeys(i.dimension for i in self.indicators))
        if not self.dimension_points:
            object.__setattr__(self, "dimension_points", {d: POINTS_PER_DIMENSION for d in dims})
        for d in dims:
            pts = self.dimension_points.get(d)
            if pts is None or not pts > 0:
                problems.append({"row": None, "message": f"维度 {d} 没有正的分值"})
            ws = [i.weight for i in self.indicators if i.dimension == d]
            if all(w is not None for w in ws) and sum(w for w in ws if w is not None) <= 0:
                problems.append({"row": None, "message": f"维度 {d} 的权重之和为零"})
        for d in self.dimension_points:
            if d not in dims:
                problems.append({"row": None, "message": f"维度 {d} 没有任何指标"})
        growth_targets = {i.dimension for i in self.indicators if i.growth_of} | {
            i.subindex for i in self.indicators if i.growth_of
        } | {i.code for i in self.indicators if i.growth_of}
        names = set(dims) | set(sub_dim) | seen
        for ind in self.indicators:
            if ind.growth_of is None:
                continue
            if ind.growth_of not in names:
                problems.append(
                    {"row": None, "message": f"指标 {ind.code} 的成长来源 {ind.growth_of} 不存在"}
                )
            elif ind.growth_of in growth_targets:
                problems.append(
                    {
                        "row": None,
                        "message": f"指标 {ind.code} 的成长来源 {ind.growth_of} 本身含成长指标（循环）",
                    }
                )
        if problems:
            raise CatalogueInvalid(problems)

    # -- structure -------------------------------------------------------------------------
    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicators)

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.dimension_points)

    @property
    def subindices(self) -> tuple[str, ...]:
        """Sub-indices grouped by dimension, in dimension order then first appearance."""
        out: list[str] = []
        for d in self.dimensions:
            for i in self.indicators:
                if i.dimension == d and i.subindex not in out:
                    out.append(i.subindex)
        return tuple(out)

    def index_of(self, code: str) -> int:
        return self.codes.index(code)

    @property
    def dimension_of_leaf(self) -> IntArray:
        dims = self.dimensions
        return np.array([dims.index(i.dimension) for i in self.indicators], dtype=np.intp)

    @property
    def subindex_of_leaf(self) -> IntArray:
        subs = self.subindices
        return np.array([subs.index(i.subindex) for i in self.indicators], dtype=np.intp)

    @property
    def dimension_of_subindex(self) -> IntArray:
        dims = self.dimensions
        sub_dim = {i.subindex: i.dimension for i in self.indicators}
        return np.array([dims.index(sub_dim[s]) for s in self.subindices], dtype=np.intp)

    @property
    def inverse(self) -> BoolArray:
        return np.array([i.polarity == "inverse" for i in self.indicators], dtype=np.bool_)

    @property
    def growth(self) -> BoolArray:
        return np.array([i.growth_of is not None for i in self.indicators], dtype=np.bool_)

    @property
    def relative_weights(self) -> FloatArray:
        """Each leaf's weight as declared; a missing weight counts 1 (equal split)."""
        return np.array(
            [1.0 if i.weight is None else float(i.weight) for i in self.indicators],
            dtype=np.float64,
        )

    @property
    def nominal_dimension_points(self) -> FloatArray:
        return np.array([self.dimension_points[d] for d in self.dimensions], dtype=np.float64)


def leaf_points(catalogue: Catalogue, relative: FloatArray | None = None) -> FloatArray:
    """Split each dimension's points among its leaves in proportion to ``relative`` weights.

    With equal relative weights this is the published rule: "每个二级指标之下的所有四级指标
    均分其 25 分权重" (seed l.1036). Refuses a dimension whose relative weights sum to zero.
    """
    w = catalogue.relative_weights if relative is None else np.asarray(relative, np.float64)
    dim = catalogue.dimension_of_leaf
    sums = np.bincount(dim, weights=w, minlength=len(catalogue.dimensions))
    if np.any(sums <= 0):
        raise CatalogueInvalid([{"row": None, "message": "某维度的指标权重之和为零"}])
    return np.asarray(catalogue.nominal_dimension_points[dim] * w / sums[dim], np.float64)


# -- reading -------------------------------------------------------------------------------
REQUIRED_COLUMNS = ("code", "dimension", "subindex", "polarity")


def catalogue_from_rows(
    rows: Iterable[Mapping[str, str | None]],
    *,
    dimension_points: Mapping[str, float] | None = None,
    allowed_dimensions: Sequence[str] | None = None,
    first_row: int = 2,
    row_numbers: Sequence[int] | None = None,
) -> Catalogue:
    """Build a catalogue from CSV-like rows (header keys), numbering rows from ``first_row``.

    ``row_numbers`` overrides the numbering (a reader that skipped blank rows knows better).
    Refuses, listing every row at fault: a missing required column, an unknown polarity,
    transform or source, a non-numeric weight, a dimension outside ``allowed_dimensions``.
    """
    problems: list[dict[str, Any]] = []
    indicators: list[Indicator] = []
    for k, row in enumerate(rows):
        n = row_numbers[k] if row_numbers is not None else first_row + k
        def get(key: str, row: Mapping[str, str | None] = row) -> str:
            return (row.get(key) or "").strip()

        missing = [c for c in REQUIRED_COLUMNS if not get(c)]
        if missing:
            problems.append({"row": n, "message": f"第 {n} 行：缺少 {'、'.join(missing)}"})
            continue
        polarity = get("polarity")
        if polarity not in ("positive", "inverse"):
            problems.append(
                {"row": n, "message": f"第 {n} 行：极性 {polarity!r} 应为 positive 或 inverse"}
            )
            continue
        dimension = get("dimension")
        if allowed_dimensions is not None and dimension not in allowed_dimensions:
            problems.append(
                {
                    "row": n,
                    "message": f"第 {n} 行：维度 {dimension!r} 不是 {'、'.join(allowed_dimensions)} 之一",
                }
            )
            continue
        transform = get("transform") or "none"
        if transform not in TRANSFORMS:
            problems.append({"row": n, "message": f"第 {n} 行：变换 {transform!r} 不受支持"})
            continue
        source = get("source") or "spreadsheet"
        if source not in SOURCES:
            problems.append({"row": n, "message": f"第 {n} 行：来源 {source!r} 不受支持"})
            continue
        weight: float | None = None
        if get("weight"):
            try:
                weight = float(get("weight"))
            except ValueError:
                problems.append({"row": n, "message": f"第 {n} 行：权重 {get('weight')!r} 不是数字"})
                continue
        indicators.append(
            Indicator(
                code=get("code"),
                dimension=dimension,
                subindex=get("subindex"),
                polarity="inverse" if polarity == "inverse" else "positive",
                name_zh=get("name_zh"),
                name_en=get("name_en"),
                unit=get("unit"),
                source=source,
                derivation=get("derivation"),
                comment=get("comment"),
                weight=weight,
                transform="log" if transform == "log" else "log1p" if transform == "log1p" else "none",
                growth_of=get("growth_of") or None,
            )
        )
    if problems:
        raise CatalogueInvalid(problems)
    if dimension_points is None:
        dims = list(dict.fromkeys(i.dimension for i in indicators))
        if allowed_dimensions is not None:
            dims = [d for d in allowed_dimensions if d in dims]
        dimension_points = {d: POINTS_PER_DIMENSION for d in dims}
    return Catalogue(tuple(indicators), dict(dimension_points))


def read_catalogue(path: str | Path, *, pudong: bool = True) -> Catalogue:
    """Read a catalogue CSV (UTF-8, BOM tolerated). ``pudong`` enforces the four dimensions."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return catalogue_from_rows(
            csv.DictReader(fh), allowed_dimensions=DIMENSIONS if pudong else None
        )


def default_catalogue() -> Catalogue:
    """The published Pudong catalogue shipped in ``index/data/catalogue.csv`` (35 leaves)."""
    ref = resources.files("jiayuan.index").joinpath("data/catalogue.csv")
    text = ref.read_text(encoding="utf-8-sig")
    return catalogue_from_rows(
        csv.DictReader(io.StringIO(text, newline="")), allowed_dimensions=DIMENSIONS
    )
