"""Reads of the registry. Every function takes the viewer's ``AreaScope`` and filters by it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from jiayuan.accounts.scope import AreaScope
from jiayuan.core.errors import NotFound, OutOfScope
from jiayuan.registry.geo import Location, PlaceIndex, parse_polygon, to_wgs84
from jiayuan.registry.models import (
    Building,
    Compound,
    Department,
    District,
    Entrance,
    GridCell,
    Neighbourhood,
    RegistryEvent,
    Subdistrict,
)


def the_district() -> District | None:
    """The district this deployment serves (one per deployment), or None before the registry
    is loaded."""
    return District.objects.order_by("id").first()


def compounds(scope: AreaScope) -> QuerySet[Compound]:
    return scope.filter(Compound.objects.all())


def get_compound(scope: AreaScope, code: str) -> Compound:
    """One compound by code; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    try:
        compound = Compound.objects.select_related(
            "neighbourhood__subdistrict__district", "neighbourhood__sector"
        ).get(code=code)
    except Compound.DoesNotExist:
        raise NotFound(_missing_compound(code)) from None
    scope.require(compound, missing=_missing_compound(code))
    return compound


def _missing_compound(code: str) -> str:
    return f"没有编码为“{code}”的小区"


def subdistricts(scope: AreaScope) -> QuerySet[Subdistrict]:
    """Subdistricts the viewer sees: those within scope, and those containing the scope."""
    return Subdistrict.objects.filter(scope.q_related())


def neighbourhoods(scope: AreaScope) -> QuerySet[Neighbourhood]:
    return scope.filter(Neighbourhood.objects.all())


def buildings_of(scope: AreaScope, compound: Compound) -> QuerySet[Building]:
    scope.require(compound)
    return compound.buildings.annotate(entrance_count=Count("entrances")).order_by("code")


def departments(scope: AreaScope) -> QuerySet[Department]:
    """Departments serving the viewer's area: within it or at a level above it."""
    return Department.objects.filter(scope.q_related())


def grid_cells(scope: AreaScope) -> QuerySet[GridCell]:
    return scope.filter(GridCell.objects.all())


def recent_events(scope: AreaScope, limit: int = 20) -> QuerySet[RegistryEvent]:
    qs = RegistryEvent.objects.select_related("actor").order_by("-at", "-id")
    if not scope.everywhere:
        qs = qs.filter(actor__isnull=False, actor__area_grants__path__in=scope.paths).distinct()
    return qs[:limit]


# --- Point-in-polygon ---------------------------------------------------------------------------

@dataclass
class _IndexCache:
    key: tuple[Any, ...] | None = None
    index: PlaceIndex | None = None


_cache = _IndexCache()
_lock = threading.Lock()


def _registry_version() -> tuple[Any, ...]:
    """Changes whenever a polygon-bearing table changes (count and newest update)."""
    return tables_version(GridCell, Compound, Neighbourhood, Subdistrict)


def tables_version(*models: Any) -> tuple[Any, ...]:
    """(count, newest ``updated_at``) of each model's table, in one round trip (this runs at
    every case intake)."""
    from django.db import connection

    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    sql = " UNION ALL ".join(
        f"SELECT {i}, COUNT(*), MAX(updated_at) FROM {t}"  # noqa: S608 - our own table names
        for i, t in enumerate(tables))
    with connection.cursor() as cur:
        cur.execute(sql)
        rows = sorted(cur.fetchall())
    return tuple(v for _, n, m in rows for v in (n, m))


def place_index() -> PlaceIndex:
    """The process-wide STRtree index, rebuilt when the registry's polygons change."""
    version = _registry_version()
    with _lock:
        if _cache.index is None or _cache.key != version:
            _cache.index = _build_index()
            _cache.key = version
        return _cache.index


def _layer(model: Any) -> list[tuple[str, Any]]:
    return [
        (code, parse_polygon(boundary))
        for code, boundary in model.objects.exclude(boundary=None).values_list("code", "boundary")
    ]


def _build_index() -> PlaceIndex:
    return PlaceIndex(
        grid_cells=_layer(GridCell),
        compounds=_layer(Compound),
        neighbourhoods=_layer(Neighbourhood),
        subdistricts=_layer(Subdistrict),
    )


def locate(lng: Any, lat: Any, crs: str | None = "wgs84") -> tuple[tuple[float, float], Location]:
    """Convert a point to WGS-84 and find what contains it. Raises ``CoordinateError``."""
    x, y = to_wgs84(lng, lat, crs)
    return (x, y), place_index().locate(x, y)


# --- Pages: the registry tree, the map, compound pages and home codes ------------------------


TREE_LEVELS: tuple[str, ...] = (
    "district", "subdistrict", "neighbourhood", "compound", "building",
)


@dataclass(frozen=True)
class TreeNode:
    """One row of the registry tree: a place, its level and its in-scope counts."""

    level: str
    code: str
    name: str
    counts: dict[str, int]
    has_children: bool
    extra: str = ""


def _tree_parent(level: str, code: str) -> Any:
    classes: dict[str, Any] = {
        "district": District, "subdistrict": Subdistrict, "neighbourhood": Neighbourhood,
        "compound": Compound, "building": Building,
    }
    if level not in classes:
        raise NotFound(f"未知层级“{level}”")
    try:
        return classes[level].objects.only("id", "code", "name", "path").get(code=code)
    except classes[level].DoesNotExist:
        raise NotFound(f"没有编码为“{code}”的{level}") from None


def tree_roots(scope: AreaScope) -> list[TreeNode]:
    """The districts the viewer sees (their own, or the one above their area), with counts."""
    rows = District.objects.filter(scope.q_related()).order_by("code")
    sub_counts = _group_count(Subdistrict.objects.filter(scope.q_related()), "district__code")
    nb_counts = _group_count(scope.filter(Neighbourhood.objects.all()),
                             "subdistrict__district__code")
    c_counts = _group_count(scope.filter(Compound.objects.all()),
                            "neighbourhood__subdistrict__district__code")
    return [
        TreeNode("district", d.code, d.name,
                 {"subdistricts": sub_counts.get(d.code, 0),
                  "neighbourhoods": nb_counts.get(d.code, 0),
                  "compounds": c_counts.get(d.code, 0)},
                 has_children=True)
        for d in rows
    ]


def _group_count(qs: QuerySet[Any], key: str) -> dict[str, int]:
    return {row[key]: row["n"] for row in qs.values(key).annotate(n=Count("id")).order_by()}


def tree_children(scope: AreaScope, level: str, code: str) -> list[TreeNode]:
    """The children of one tree node, in scope, with counts of what lies below each.

    Refuses a node the viewer neither covers nor sits beneath (``OutOfScope``) and unknown
    levels or codes (``NotFound``). One query for the rows and one per count column, so a
    level costs the same whatever the size of the district.
    """
    parent = _tree_parent(level, code)
    if not scope.sees(parent.path):
        raise OutOfScope()
    visible = scope.q_related()
    if level == "district":
        subs = Subdistrict.objects.filter(visible, district=parent).order_by("code")
        nb = _group_count(scope.filter(Neighbourhood.objects.filter(subdistrict__district=parent)),
                          "subdistrict__code")
        cc = _group_count(
            scope.filter(Compound.objects.filter(neighbourhood__subdistrict__district=parent)),
            "neighbourhood__subdistrict__code")
        return [TreeNode("subdistrict", s.code, s.name,
                         {"neighbourhoods": nb.get(s.code, 0), "compounds": cc.get(s.code, 0)},
                         has_children=True, extra=s.get_kind_display())
                for s in subs]
    if level == "subdistrict":
        nbs = Neighbourhood.objects.filter(visible, subdistrict=parent).order_by("code")
        cc = _group_count(scope.filter(Compound.objects.filter(neighbourhood__subdistrict=parent)),
                          "neighbourhood__code")
        return [TreeNode("neighbourhood", n.code, n.name, {"compounds": cc.get(n.code, 0)},
                         has_children=True, extra=n.get_kind_display())
                for n in nbs]
    if level == "neighbourhood":
        cs = Compound.objects.filter(visible, neighbourhood=parent).order_by("code")
        bc = _group_count(scope.filter(Building.objects.filter(compound__neighbourhood=parent)),
                          "compound__code")
        ec = _group_count(
            scope.filter(Entrance.objects.filter(building__compound__neighbourhood=parent)),
            "building__compound__code")
        return [TreeNode("compound", c.code, c.name,
                         {"buildings": bc.get(c.code, 0), "entrances": ec.get(c.code, 0)},
                         has_children=True, extra=c.get_compound_type_display())
                for c in cs]
    if level == "compound":
        bs = scope.filter(Building.objects.filter(compound=parent)).annotate(
            entrance_count=Count("entrances")).order_by("code")
        return [TreeNode("building", b.code, b.name, {"entrances": b.entrance_count},
                         has_children=b.entrance_count > 0)
                for b in bs]
    es = scope.filter(Entrance.objects.filter(building=parent)).order_by("code")
    return [TreeNode("entrance", e.code, e.name, {"households": e.households},
                     has_children=False, extra=e.door_plate)
            for e in es]


def compound_features(scope: AreaScope) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS-84) of the compounds in scope that have a boundary."""
    rows = (scope.filter(Compound.objects.exclude(boundary=None))
            .order_by("code")
            .values_list("code", "name", "compound_type", "boundary", "neighbourhood__name"))
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": boundary,
             "properties": {"code": code, "name": name, "compound_type": ctype,
                            "neighbourhood": nb_name}}
            for code, name, ctype, boundary, nb_name in rows
        ],
    }


def neighbourhood_features(scope: AreaScope) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the neighbourhoods in scope (outlines on the map)."""
    rows = (scope.filter(Neighbourhood.objects.exclude(boundary=None))
            .order_by("code").values_list("code", "name", "boundary"))
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": boundary, "properties": {"code": code, "name": name}}
            for code, name, boundary in rows
        ],
    }


def entrances_of(scope: AreaScope, compound: Compound) -> QuerySet[Entrance]:
    """The entrances of a compound (with their buildings), refusing a compound out of scope."""
    scope.require(compound)
    return (scope.filter(Entrance.objects.filter(building__compound=compound))
            .select_related("building").order_by("building__code", "code"))


def households_by_building(scope: AreaScope, compound: Compound) -> list[tuple[str, int]]:
    """(building name, households) for the compound's buildings, in code order."""
    scope.require(compound)
    return list(scope.filter(Building.objects.filter(compound=compound))
                .order_by("code").values_list("name", "households"))


def get_entrance(scope: AreaScope, code: str) -> Entrance:
    """One entrance by code; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    try:
        entrance = Entrance.objects.select_related("building__compound").get(code=code)
    except Entrance.DoesNotExist:
        raise NotFound(f"没有编码为“{code}”的门洞") from None
    scope.require(entrance, missing=f"没有编码为“{code}”的门洞")
    return entrance


# An entrance's compound, neighbourhood and subdistrict without their polygons (large JSON that
# intake and the landing page never read).
LINEAGE_BOUNDARIES = ("building__compound__boundary", "building__compound__neighbourhood__boundary",
                      "building__compound__neighbourhood__subdistrict__boundary")


def entrance_by_home_code(token: str) -> Entrance:
    """The entrance a home-code token names, for the public landing page (no scope: the token
    itself is the permission, and the page shows only the place's name and address).
    Refuses unknown tokens with ``NotFound``."""
    try:
        return Entrance.objects.select_related(
            "building__compound__neighbourhood__subdistrict").defer(*LINEAGE_BOUNDARIES).get(
            home_code=token)
    except Entrance.DoesNotExist:
        raise NotFound("该家园码无效或已停用") from None


def compounds_version() -> tuple[Any, ...]:
    """Changes when a compound is added, removed or saved (count and newest ``updated_at``):
    a cache key part for answers built from every compound, such as the map's GeoJSON."""
    from django.db.models import Max

    agg = Compound.objects.aggregate(n=Count("id"), m=Max("updated_at"))
    return (agg["n"], agg["m"].isoformat() if agg["m"] else None)
