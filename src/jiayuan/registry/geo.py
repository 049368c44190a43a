"""Pure geometry for the registry: coordinates at the edge, point-in-polygon at scale.

No Django here. Positions are stored in WGS-84; apps from Chinese map providers send GCJ-02
(AMap, Tencent, WeChat) or BD-09 (Baidu), which we convert on the way in with ``prcoords``
(iterative inverses, sub-millimetre). ``PlaceIndex`` answers "which grid cell, compound and
neighbourhood contain this point?" with shapely's STRtree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import prcoords
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


class CRS(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


class CoordinateError(ValueError):
    """A coordinate that is not a number, out of range, or in an unknown system."""


CRS_ALIASES = {
    "wgs84": CRS.WGS84, "wgs-84": CRS.WGS84, "epsg:4326": CRS.WGS84, "gps": CRS.WGS84,
    "gcj02": CRS.GCJ02, "gcj-02": CRS.GCJ02, "mars": CRS.GCJ02, "amap": CRS.GCJ02,
    "bd09": CRS.BD09, "bd-09": CRS.BD09, "baidu": CRS.BD09,
}


def parse_crs(value: str | CRS | None) -> CRS:
    if value is None or value == "":
        return CRS.WGS84
    if isinstance(value, CRS):
        return value
    try:
        return CRS_ALIASES[str(value).strip().lower()]
    except KeyError:
        raise CoordinateError(f"未知坐标系“{value}”，可用：wgs84、gcj02、bd09") from None


def check_lng_lat(lng: Any, lat: Any) -> tuple[float, float]:
    """Parse and range-check a longitude/latitude pair (degrees)."""
    try:
        x, y = float(lng), float(lat)
    except (TypeError, ValueError):
        raise CoordinateError(f"坐标不是数字：经度“{lng}”，纬度“{lat}”") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise CoordinateError("坐标不是有限数值")
    if not -180.0 <= x <= 180.0:
        raise CoordinateError(f"经度 {x} 超出范围（-180 至 180）")
    if not -90.0 <= y <= 90.0:
        raise CoordinateError(f"纬度 {y} 超出范围（-90 至 90）")
    return x, y


def to_wgs84(lng: Any, lat: Any, crs: str | CRS | None = CRS.WGS84) -> tuple[float, float]:
    """Convert a point from WGS-84, GCJ-02 or BD-09 to WGS-84 (lng, lat)."""
    x, y = check_lng_lat(lng, lat)
    system = parse_crs(crs)
    if system is CRS.WGS84:
        return x, y
    c = prcoords.Coords(y, x)
    # Outside China the offsets are not applied (check_china), as the providers do.
    out = prcoords.gcj_wgs_bored(c) if system is CRS.GCJ02 else prcoords.bd_wgs_bored(c)
    return float(out.lon), float(out.lat)


def from_wgs84(lng: float, lat: float, crs: str | CRS) -> tuple[float, float]:
    """Convert a WGS-84 point to GCJ-02 or BD-09 (for clients that draw on those maps)."""
    x, y = check_lng_lat(lng, lat)
    system = parse_crs(crs)
    if system is CRS.WGS84:
        return x, y
    c = prcoords.Coords(y, x)
    out = prcoords.wgs_gcj(c) if system is CRS.GCJ02 else prcoords.wgs_bd(c)
    return float(out.lon), float(out.lat)


def geometry_to_wgs84(geometry: Mapping[str, Any], crs: str | CRS | None) -> dict[str, Any]:
    """Convert every vertex of a GeoJSON Polygon/MultiPolygon to WGS-84 and validate it."""
    geom = parse_polygon(geometry)
    system = parse_crs(crs)
    if system is not CRS.WGS84:
        geom = shapely.transform(
            geom, lambda xy: _convert_array(xy, system), include_z=False
        )
    return dict(shapely.geometry.mapping(geom))


def _convert_array(coords: Any, system: CRS) -> Any:
    import numpy as np

    out = np.empty_like(coords)
    for i, (x, y) in enumerate(coords):
        out[i] = to_wgs84(x, y, system)
    return out


def parse_polygon(geometry: Mapping[str, Any] | str) -> BaseGeometry:
    """A valid, non-empty Polygon or MultiPolygon from GeoJSON (dict or text), or an error."""
    import json

    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise CoordinateError("边界不是有效的 GeoJSON 文本") from None
    if not isinstance(geometry, Mapping) or geometry.get("type") not in {"Polygon", "MultiPolygon"}:
        raise CoordinateError("边界必须是 GeoJSON 的 Polygon 或 MultiPolygon")
    try:
        geom = shape(geometry)
    except Exception:  # shapely raises several types for malformed coordinates
        raise CoordinateError("边界坐标格式错误") from None
    if geom.is_empty:
        raise CoordinateError("边界为空")
    minx, miny, maxx, maxy = geom.bounds
    check_lng_lat(minx, miny)
    check_lng_lat(maxx, maxy)
    if not geom.is_valid:
        raise CoordinateError(f"边界多边形无效：{shapely.is_valid_reason(geom)}")
    return geom


@dataclass(frozen=True)
class Location:
    """What contains a point: codes of the smallest places found (None where none does)."""

    grid_cell: str | None
    compound: str | None
    neighbourhood: str | None
    subdistrict: str | None


class _Layer:
    def __init__(self, items: Iterable[tuple[str, BaseGeometry]]) -> None:
        pairs = list(items)
        self.codes = [c for c, _ in pairs]
        self.geoms = [g for _, g in pairs]
        self.tree = shapely.STRtree(self.geoms) if self.geoms else None

    def find(self, point: Point) -> str | None:
        if self.tree is None:
            return None
        hits = self.tree.query(point, predicate="intersects")
        if len(hits) == 0:
            return None
        # Several hits only at shared edges: take the lowest code, deterministically.
        return min(self.codes[int(i)] for i in hits)

    def find_many(self, points: list[Point]) -> list[str | None]:
        out: list[str | None] = [None] * len(points)
        if self.tree is None or not points:
            return out
        pt_idx, geom_idx = self.tree.query(points, predicate="intersects")
        for p, g in zip(pt_idx.tolist(), geom_idx.tolist(), strict=True):
            code = self.codes[g]
            current = out[p]
            if current is None or code < current:
                out[p] = code
        return out


class PlaceIndex:
    """Point-in-polygon over grid cells, compounds, neighbourhoods and subdistricts."""

    def __init__(
        self,
        *,
        grid_cells: Iterable[tuple[str, BaseGeometry]] = (),
        compounds: Iterable[tuple[str, BaseGeometry]] = (),
        neighbourhoods: Iterable[tuple[str, BaseGeometry]] = (),
        subdistricts: Iterable[tuple[str, BaseGeometry]] = (),
    ) -> None:
        self.grid_cells = _Layer(grid_cells)
        self.compounds = _Layer(compounds)
        self.neighbourhoods = _Layer(neighbourhoods)
        self.subdistricts = _Layer(subdistricts)

    def locate(self, lng: float, lat: float) -> Location:
        p = Point(lng, lat)
        return Location(
            grid_cell=self.grid_cells.find(p),
            compound=self.compounds.find(p),
            neighbourhood=self.neighbourhoods.find(p),
            subdistrict=self.subdistricts.find(p),
        )

    def locate_many(self, points: list[tuple[float, float]]) -> list[Location]:
        pts = [Point(x, y) for x, y in points]
        g = self.grid_cells.find_many(pts)
        c = self.compounds.find_many(pts)
        n = self.neighbourhoods.find_many(pts)
        s = self.subdistricts.find_many(pts)
        return [Location(*row) for row in zip(g, c, n, s, strict=True)]
