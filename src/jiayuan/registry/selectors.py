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
    GridCell,
    Neighbourhood,
    RegistryEvent,
    Subdistrict,
)


def compounds(scope: AreaScope) -> QuerySet[Compound]:
    return scope.filter(Compound.objects.all())


def get_compound(scope: AreaScope, code: str) -> Compound:
    """One compound by code; ``NotFound`` if absent, ``OutOfScope`` if outside the area."""
    try:
        compound = Compound.objects.select_related(
            "neighbourhood__subdistrict__district", "neighbourhood__sector"
        ).get(code=code)
    except Compound.DoesNotExist:
        raise NotFound(f"没有编码为“{code}”的小区") from None
    if not scope.covers(compound.path):
        raise OutOfScope()
    return compound


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
    from django.db.models import Max

    parts: list[Any] = []
    for model in (GridCell, Compound, Neighbourhood, Subdistrict):
        agg = model.objects.aggregate(n=Count("id"), m=Max("updated_at"))
        parts += [agg["n"], agg["m"]]
    return tuple(parts)


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
