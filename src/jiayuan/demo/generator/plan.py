"""The pure planning step of the demo generator: a whole synthetic district as plain data.

``plan(scale, seed)`` lays out the district → subdistricts → neighbourhoods → compounds and grid
cells (non-overlapping polygons: Voronoi cells of random seeds clipped to the parent, so every
child lies inside its parent; compounds are their cells shrunk about the centroid, so streets lie
between them), the organisations that act in them, and every compound's attributes (type,
households, population, year built, floor area, tags). ``dwellings(compound, seed)`` expands one
compound into buildings, entrances and dwellings. No Django here: the same seed gives the same
plan, and the counts of the Pudong scale are checked without touching a database.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from jiayuan.demo.generator import names

SCALES = ("street", "pudong")
FOUR_TYPES = ("old_public", "commodity", "resettlement", "affordable")


@dataclass(frozen=True)
class ScaleSpec:
    """How big a scale is. Counts are exact; household totals are hit exactly by rescaling."""

    subdistricts: int
    neighbourhoods: int
    compound_mix: dict[str, int]  # the four index types, exact counts
    households: int
    units_per_street: int
    units_per_town: int


SPECS: dict[str, ScaleSpec] = {
    # 陆家嘴街道: about 30 居民区 and 80 小区, ~42,000 households (about 105,000 residents).
    "street": ScaleSpec(1, 30, {"commodity": 44, "old_public": 28, "resettlement": 6,
                                "affordable": 2}, 42_000, 40, 15),
    # 浦东新区: 12 街道 + 24 镇, ~1,300 neighbourhoods, 2,790 compounds, ~1.95 M households.
    "pudong": ScaleSpec(36, 1300, {"commodity": 1590, "old_public": 560, "resettlement": 480,
                                   "affordable": 160}, 1_950_000, 30, 15),
}

# Per compound type: median households, persons per household, dwelling area mean (m²),
# years built, floors choices, dwellings per floor per entrance, entrances per building.
TYPE_PROFILE: dict[str, dict[str, Any]] = {
    "old_public": {"households": 700, "pph": 2.3, "area": (48, 8, 25, 80),
                   "years": (1952, 1996), "floors": (5, 6, 6, 7), "per_floor": (2, 3, 4),
                   "entrances": (2, 3, 4, 5, 6)},
    "resettlement": {"households": 1200, "pph": 2.8, "area": (76, 12, 45, 110),
                     "years": (1995, 2018), "floors": (6, 6, 11, 14, 18), "per_floor": (2, 3, 4),
                     "entrances": (1, 2, 3)},
    "affordable": {"households": 1000, "pph": 2.6, "area": (62, 10, 40, 90),
                   "years": (2008, 2021), "floors": (11, 14, 18, 18), "per_floor": (4, 6, 8),
                   "entrances": (1, 2)},
    "commodity": {"households": 500, "pph": 2.5, "area": (112, 30, 60, 260),
                  "years": (1993, 2023), "floors": (6, 11, 18, 24, 33), "per_floor": (2, 3, 4),
                  "entrances": (1, 2, 3)},
    "urban_village": {"households": 220, "pph": 3.2, "area": (140, 35, 80, 260),
                      "years": (1975, 2005), "floors": (2, 3, 3), "per_floor": (1,),
                      "entrances": (1,)},
}

SUBDISTRICT_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("police_station", "{s}派出所"), ("city_management", "{s}城管中队"),
    ("market_supervision", "{s}市场监管所"), ("housing_office", "{s}房管办"),
    ("greening_sanitation", "{s}绿化市容所"), ("fire", "{s}消防救援站"),
    ("civil_affairs", "{s}社区事务受理服务中心"), ("health", "{s}社区卫生服务中心"),
)
DISTRICT_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("police_station", "浦东公安分局"), ("city_management", "浦东新区城管执法局"),
    ("market_supervision", "浦东新区市场监督管理局"), ("housing_office", "浦东新区房屋管理局"),
    ("greening_sanitation", "浦东新区生态环境局"), ("fire", "浦东新区消防救援支队"),
    ("civil_affairs", "浦东新区民政局"), ("health", "浦东新区卫生健康委员会"),
    ("water", "浦东威立雅自来水公司"), ("power", "国网上海浦东供电公司"),
    ("gas", "浦东燃气公司"), ("traffic_police", "浦东交警支队"),
)


@dataclass
class CompoundPlan:
    code: str
    name: str
    compound_type: str
    geom: Polygon
    lng: float
    lat: float
    road: str
    lane: int
    households: int = 0
    population: int = 0
    year_built: int = 2000
    mean_dwelling_m2: float = 80.0
    floor_area_m2: float = 0.0
    tags: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"{names.DISTRICT_NAME}{self.road}{self.lane}弄"


@dataclass
class GridCellPlan:
    code: str
    name: str
    geom: Polygon


@dataclass
class NeighbourhoodPlan:
    code: str
    name: str
    kind: str  # residential | village
    geom: Polygon
    lng: float
    lat: float
    compounds: list[CompoundPlan] = field(default_factory=list)
    grid_cells: list[GridCellPlan] = field(default_factory=list)


@dataclass
class OrgPlan:
    """A department, operations centre, joint station or unit (kind '' where none)."""

    code: str
    name: str
    kind: str
    phone: str
    neighbourhood: str | None = None  # a neighbourhood code, for units and joint stations
    address: str = ""
    lng: float | None = None
    lat: float | None = None


@dataclass
class LiaisonPlan:
    department: str  # department code
    neighbourhood: str
    name: str
    phone: str


@dataclass
class SubdistrictPlan:
    code: str
    name: str
    kind: str  # street | town
    geom: Polygon
    lng: float
    lat: float
    neighbourhoods: list[NeighbourhoodPlan] = field(default_factory=list)
    departments: list[OrgPlan] = field(default_factory=list)
    operations_centre: OrgPlan | None = None
    units: list[OrgPlan] = field(default_factory=list)
    liaisons: list[LiaisonPlan] = field(default_factory=list)


@dataclass
class DistrictPlan:
    scale: str
    seed: int
    code: str
    name: str
    geom: Polygon
    lng: float
    lat: float
    subdistricts: list[SubdistrictPlan] = field(default_factory=list)
    departments: list[OrgPlan] = field(default_factory=list)
    operations_centre: OrgPlan | None = None

    def neighbourhoods(self) -> Iterator[NeighbourhoodPlan]:
        for s in self.subdistricts:
            yield from s.neighbourhoods

    def compounds(self) -> Iterator[CompoundPlan]:
        for n in self.neighbourhoods():
            yield from n.compounds

    def counts(self) -> dict[str, int]:
        """Row counts and the compound-type mix the plan will write (dwelling rows excepted)."""
        compounds = list(self.compounds())
        out: dict[str, int] = {
            "subdistricts": len(self.subdistricts),
            "streets": sum(s.kind == "street" for s in self.subdistricts),
            "towns": sum(s.kind == "town" for s in self.subdistricts),
            "neighbourhoods": sum(len(s.neighbourhoods) for s in self.subdistricts),
            "villages": sum(n.kind == "village" for n in self.neighbourhoods()),
            "compounds": len(compounds),
            "grid_cells": sum(len(n.grid_cells) for n in self.neighbourhoods()),
            "departments": len(self.departments)
            + sum(len(s.departments) for s in self.subdistricts),
            "operations_centres": 1 + len(self.subdistricts),
            "joint_stations": sum(len(s.neighbourhoods) for s in self.subdistricts),
            "liaisons": sum(len(s.liaisons) for s in self.subdistricts),
            "units": sum(len(s.units) for s in self.subdistricts),
            "households": sum(c.households for c in compounds),
            "population": sum(c.population for c in compounds),
        }
        for t in (*FOUR_TYPES, "urban_village"):
            out[f"compounds_{t}"] = sum(c.compound_type == t for c in compounds)
        return out


# --- geometry helpers -------------------------------------------------------------------------

def _sample_points(poly: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside a polygon (rejection sampling from its bounds)."""
    minx, miny, maxx, maxy = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(16, 3 * (n - len(out)))
        xs = rng.uniform(minx, maxx, k)
        ys = rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(poly, xs, ys)
        out = np.vstack([out, np.column_stack([xs[inside], ys[inside]])])
    return out[:n]


def _as_polygon(geom: BaseGeometry) -> Polygon:
    """The largest polygon of a clipping result (clipping a convex cell gives one polygon)."""
    if isinstance(geom, Polygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return max(polys, key=lambda g: g.area)


def partition(parent: Polygon, seeds: np.ndarray, lloyd: int = 0) -> list[Polygon]:
    """Voronoi cells of ``seeds`` clipped to a convex ``parent``, in seed order.

    The cells are convex, pairwise disjoint but for shared edges, and cover the parent.
    ``lloyd`` rounds of Lloyd relaxation move each seed to its cell's centroid first.
    """
    if len(seeds) == 1:
        return [parent]
    pts = seeds
    cells: list[Polygon] = []
    for round_ in range(lloyd + 1):
        vor = shapely.voronoi_polygons(MultiPoint([tuple(p) for p in pts]),
                                       extend_to=parent.envelope.buffer(0.05), ordered=True)
        cells = [_as_polygon(c.intersection(parent)) for c in vor.geoms]
        if round_ < lloyd:
            pts = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return cells


def shrink(cell: Polygon, factor: float) -> Polygon:
    """A convex cell scaled about its centroid: it stays inside the cell."""
    out = affinity.scale(cell, xfact=factor, yfact=factor, origin=cell.centroid)
    assert isinstance(out, Polygon)
    return out


def _rep(geom: BaseGeometry) -> tuple[float, float]:
    p = geom.representative_point()
    return float(p.x), float(p.y)


def _largest_remainder(weights: list[float], total: int, minimum: int = 0) -> list[int]:
    """Integers proportional to ``weights``, each at least ``minimum``, summing to ``total``."""
    base = total - minimum * len(weights)
    s = sum(weights)
    raw = [w / s * base for w in weights]
    ints = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (ints[i] - raw[i], i))
    for i in order[: base - sum(ints)]:
        ints[i] += 1
    return [v + minimum for v in ints]


# --- the plan ---------------------------------------------------------------------------------

def plan(scale: str, seed: int) -> DistrictPlan:
    """The whole district for ``scale`` ('street' or 'pudong') from ``seed``; refuses others."""
    if scale not in SPECS:
        raise ValueError(f"未知规模“{scale}”，可用：{'、'.join(SCALES)}")
    spec = SPECS[scale]
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    outline = Polygon(names.DISTRICT_OUTLINE).convex_hull
    assert isinstance(outline, Polygon)
    dx, dy = _rep(outline)
    district = DistrictPlan(scale=scale, seed=seed, code=names.DISTRICT_CODE,
                            name=names.DISTRICT_NAME, geom=outline, lng=dx, lat=dy)

    # Subdistricts: Voronoi cells of the real centres, jittered by the seed.
    if scale == "street":
        chosen = [names.SUBDISTRICTS[0]]
        geoms = [Polygon(names.LUJIAZUI_OUTLINE).convex_hull]
    else:
        chosen = list(names.SUBDISTRICTS)
        centres = np.array([[c[2], c[3]] for c in chosen])
        centres += nrng.normal(0.0, 0.0015, centres.shape)
        geoms = partition(outline, centres)
    street_no = town_no = 0
    for (sname, kind, _, _), geom in zip(chosen, geoms, strict=True):
        if kind == "street":
            street_no += 1
            code = f"{names.DISTRICT_CODE}{street_no:03d}"
        else:
            town_no += 1
            code = f"{names.DISTRICT_CODE}{100 + town_no:03d}"
        sx, sy = _rep(geom)
        district.subdistricts.append(SubdistrictPlan(code=code, name=sname, kind=kind,
                                                     geom=_as_polygon(geom), lng=sx, lat=sy))

    # Neighbourhoods per subdistrict: each town has one village; the rest residential.
    weights = [rng.gauss(35, 4) if s.kind == "street" else rng.gauss(37, 6)
               for s in district.subdistricts]
    per_sub = _largest_remainder([max(w, 10.0) for w in weights], spec.neighbourhoods, 8)
    lx, ly = names.LUJIAZUI_CENTRE
    for s, k in zip(district.subdistricts, per_sub, strict=True):
        seeds = _sample_points(s.geom, k, nrng)
        seeds = seeds[np.lexsort((seeds[:, 0], -seeds[:, 1]))]  # north to south, then west
        cells = partition(s.geom, seeds, lloyd=2)
        village_at = -1
        if s.kind == "town":
            dist = [math.hypot(c.centroid.x - lx, c.centroid.y - ly) for c in cells]
            village_at = int(np.argmax(dist))
        res_no = 0
        for i, cell in enumerate(cells):
            if i == village_at:
                ncode, nname, nkind = f"{s.code}201", f"{names.stem(rng)}村", "village"
            else:
                res_no += 1
                ncode = f"{s.code}{res_no:03d}"
                nname, nkind = f"{names.stem(rng)}居民区", "residential"
            nx, ny = _rep(cell)
            s.neighbourhoods.append(NeighbourhoodPlan(code=ncode, name=nname, kind=nkind,
                                                      geom=cell, lng=nx, lat=ny))

    _plan_compounds(district, spec, rng, nrng)
    _plan_grid_cells(district, nrng)
    _plan_organisations(district, spec, rng)
    return district


def _plan_compounds(district: DistrictPlan, spec: ScaleSpec, rng: random.Random,
                    nrng: np.random.Generator) -> None:
    residential = [(s, n) for s in district.subdistricts for n in s.neighbourhoods
                   if n.kind == "residential"]
    total = sum(spec.compound_mix.values())
    extra = nrng.multinomial(total - len(residential), [1 / len(residential)] * len(residential))
    slots: list[tuple[SubdistrictPlan, NeighbourhoodPlan]] = []
    for (s, n), e in zip(residential, extra.tolist(), strict=True):
        slots += [(s, n)] * (1 + int(e))

    # Types, exact counts: old public housing near the centre, resettlement and affordable
    # housing further out, commodity housing everywhere else.
    lx, ly = names.LUJIAZUI_CENTRE
    dist = np.array([math.hypot(n.lng - lx, n.lat - ly) for _, n in slots])
    urban = np.array([1.0 if s.kind == "street" else 0.0 for s, _ in slots])
    types: list[str] = ["commodity"] * len(slots)
    free = np.ones(len(slots), dtype=bool)
    for t, score in (
        ("old_public", urban - 3 * dist + nrng.normal(0, 0.6, len(slots))),
        ("resettlement", 4 * dist + nrng.normal(0, 0.5, len(slots))),
        ("affordable", 3 * dist + nrng.normal(0, 0.8, len(slots))),
    ):
        order = [int(i) for i in np.argsort(-score, kind="stable") if free[i]]
        for i in order[: spec.compound_mix[t]]:
            types[i] = t
            free[i] = False

    by_n: dict[str, list[str]] = {}
    for (_, n), t in zip(slots, types, strict=True):
        by_n.setdefault(n.code, []).append(t)
    for s in district.subdistricts:
        for n in s.neighbourhoods:
            kinds = by_n.get(n.code, ["urban_village"] if n.kind == "village" else [])
            if not kinds:
                continue
            seeds = _sample_points(n.geom, len(kinds), nrng)
            cells = partition(n.geom, seeds, lloyd=1)
            factor = 0.6 if n.kind == "village" else 0.82
            for j, (t, cell) in enumerate(zip(kinds, cells, strict=True), start=1):
                geom = shrink(cell, factor)
                cx, cy = _rep(geom)
                n.compounds.append(CompoundPlan(
                    code=f"{n.code}{j:03d}", name="", compound_type=t, geom=geom, lng=cx, lat=cy,
                    road=rng.choice(names.ROADS), lane=rng.randrange(1, 1600)))

    # Attributes; household sizes are drawn per type and rescaled to the scale's exact total.
    compounds = list(district.compounds())
    used: set[str] = set()
    raw: list[float] = []
    for c in compounds:
        prof = TYPE_PROFILE[c.compound_type]
        raw.append(min(prof["households"] * math.exp(rng.gauss(0, 0.45)), 6 * prof["households"]))
        c.name = _unique_name(c, rng, used)
        y0, y1 = prof["years"]
        c.year_built = rng.randint(y0, y1)
        mean, sd, lo, hi = prof["area"]
        c.mean_dwelling_m2 = round(min(max(rng.gauss(mean, sd / 2), lo), hi), 1)
    sizes = _largest_remainder(raw, spec.households, minimum=30)
    for c, h in zip(compounds, sizes, strict=True):
        prof = TYPE_PROFILE[c.compound_type]
        c.households = h
        c.population = round(h * max(1.2, rng.gauss(prof["pph"], 0.2)))
        c.floor_area_m2 = round(h * c.mean_dwelling_m2 * 1.28, 1)
        c.tags = _tags(c, district, rng)

    # A residents' committee is usually called after its main compound (东园一村居民区).
    taken = {n.name for n in district.neighbourhoods()}
    for n in district.neighbourhoods():
        if n.kind == "residential" and n.compounds:
            main = n.compounds[0].name
            main = main[:-2] if main.endswith(("小区", "大厦")) else main
            name = f"{main}居民区"
            if name not in taken:
                taken.add(name)
                n.name = name


def _unique_name(c: CompoundPlan, rng: random.Random, used: set[str]) -> str:
    suffixes = names.SUFFIXES[c.compound_type]
    for attempt in range(50):
        name = names.stem(rng) + rng.choice(suffixes)
        if attempt > 20:
            name = f"{name}{attempt - 19}期"
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of compound names")  # pragma: no cover - 50 tries always do


def _tags(c: CompoundPlan, district: DistrictPlan, rng: random.Random) -> list[str]:
    lx, ly = names.LUJIAZUI_CENTRE
    far = math.hypot(c.lng - lx, c.lat - ly) > 0.22
    tags: list[str] = []
    if c.compound_type == "commodity" and not far and rng.random() < 0.25:
        tags.append("学区房")
    if far:
        tags.append("远郊")
    if c.households >= 2000:
        tags.append("大型居住区")
    if c.compound_type == "old_public" and c.year_built < 2000 and rng.random() < 0.6:
        tags.append("老旧小区改造")
    if c.compound_type == "old_public" and rng.random() < 0.2:
        tags.append("加装电梯")
    if c.compound_type == "affordable" and rng.random() < 0.5:
        tags.append("人才公寓")
    if c.compound_type in {"commodity", "affordable"} and rng.random() < 0.1:
        tags.append("涉外小区")
    return tags


def _plan_grid_cells(district: DistrictPlan, nrng: np.random.Generator) -> None:
    for n in district.neighbourhoods():
        k = 2 if n.kind == "village" else int(nrng.integers(2, 5))
        cells = partition(n.geom, _sample_points(n.geom, k, nrng))
        n.grid_cells = [GridCellPlan(code=f"{n.code}G{j:02d}", name=f"{n.name}第{j}网格",
                                     geom=cell)
                        for j, cell in enumerate(cells, start=1)]


def _plan_organisations(district: DistrictPlan, spec: ScaleSpec, rng: random.Random) -> None:
    d = district.code
    district.departments = [
        OrgPlan(code=f"{d}D{i:02d}", name=name, kind=kind, phone=names.landline(rng))
        for i, (kind, name) in enumerate(DISTRICT_DEPARTMENTS, start=1)
    ]
    district.operations_centre = OrgPlan(code=f"{d}OC", name="浦东新区城市运行管理中心",
                                         kind="", phone=names.landline(rng))
    for s in district.subdistricts:
        short = names.short(s.name)
        s.departments = [
            OrgPlan(code=f"{s.code}D{i:02d}", name=tpl.format(s=short), kind=kind,
                    phone=names.landline(rng))
            for i, (kind, tpl) in enumerate(SUBDISTRICT_DEPARTMENTS, start=1)
        ]
        s.operations_centre = OrgPlan(code=f"{s.code}OC", name=f"{s.name}城市运行管理中心",
                                      kind="", phone=names.landline(rng))
        s.liaisons = [LiaisonPlan(department=dep.code, neighbourhood=n.code,
                                  name=names.person(rng), phone=names.mobile(rng))
                      for n in s.neighbourhoods for dep in s.departments]
        count = spec.units_per_street if s.kind == "street" else spec.units_per_town
        for i in range(1, count + 1):
            n = rng.choice(s.neighbourhoods)
            kind = rng.choices(
                ("office_building", "company", "institution", "social_organisation",
                 "school", "hospital"),
                weights=(4, 6, 2, 2, 1, 0.5) if s.kind == "street" else (1, 6, 2, 2, 1, 0.5))[0]
            road = rng.choice(names.ROADS)
            name = {
                "office_building": f"{names.stem(rng)}{rng.choice(names.TOWERS)}",
                "company": f"上海{names.stem(rng)}{rng.choice(names.INDUSTRIES)}有限公司",
                "institution": f"{short}{rng.choice(('文化活动中心', '党群服务中心', '图书馆'))}",
                "social_organisation": f"{short}{rng.choice(names.SOCIAL_ORGS)}",
                "school": f"上海市{names.stem(rng)}{rng.choice(('小学', '中学', '幼儿园'))}",
                "hospital": f"上海市{names.stem(rng)}医院",
            }[kind]
            px, py = _rep(rng.choice(n.grid_cells).geom)
            s.units.append(OrgPlan(code=f"{s.code}U{i:04d}", name=name, kind=kind,
                                   phone=names.landline(rng), neighbourhood=n.code,
                                   address=f"{road}{rng.randrange(1, 2000)}号", lng=px, lat=py))


# --- dwellings of one compound ----------------------------------------------------------------

@dataclass
class EntrancePlan:
    code: str
    name: str
    door_plate: str
    lng: float
    lat: float
    rooms: list[str]
    areas: list[float]


@dataclass
class BuildingPlan:
    code: str
    name: str
    floors: int
    has_elevator: bool
    year_built: int
    lng: float
    lat: float
    entrances: list[EntrancePlan]

    @property
    def households(self) -> int:
        return sum(len(e.rooms) for e in self.entrances)


def dwellings(c: CompoundPlan, seed: int) -> list[BuildingPlan]:
    """Buildings, entrances and exactly ``c.households`` dwellings of one compound.

    Deterministic in (seed, compound code). Rooms are numbered floor + unit ("302", "1504");
    an entrance holds floors × dwellings-per-floor, the last one of a compound fewer.
    """
    prof = TYPE_PROFILE[c.compound_type]
    rng = random.Random(f"{seed}:{c.code}")
    nrng = np.random.default_rng([seed, int(c.code)])
    mean, sd, lo, hi = prof["area"]
    areas = np.clip(nrng.normal(c.mean_dwelling_m2, sd, c.households), lo, hi).round(2).tolist()
    spots = _sample_points(c.geom, 1000, nrng)
    remaining = c.households
    taken = 0
    buildings: list[BuildingPlan] = []
    door = 0
    while remaining > 0:
        b_no = len(buildings) + 1
        floors = rng.choice(prof["floors"])
        per_floor = rng.choice(prof["per_floor"])
        bx, by = (float(v) for v in spots[(b_no - 1) % len(spots)])
        b = BuildingPlan(code=f"{c.code}{b_no:03d}", name=f"{b_no}号楼", floors=floors,
                         has_elevator=floors >= 8 or (c.compound_type == "commodity"
                                                      and floors >= 6 and rng.random() < 0.3),
                         year_built=c.year_built + (rng.random() < 0.15), lng=bx, lat=by,
                         entrances=[])
        for e_no in range(1, rng.choice(prof["entrances"]) + 1):
            if remaining <= 0:
                break
            door += 1
            take = min(remaining, floors * per_floor)
            rooms = [f"{f}{u:02d}" for f in range(1, floors + 1)
                     for u in range(1, per_floor + 1)][:take]
            b.entrances.append(EntrancePlan(
                code=f"{b.code}{e_no:02d}", name=f"{c.name}{door}号",
                door_plate=f"{c.road}{c.lane}弄{door}号",
                lng=bx, lat=by, rooms=rooms,
                areas=areas[taken:taken + take]))
            remaining -= take
            taken += take
        buildings.append(b)
    return buildings
