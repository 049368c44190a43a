"""Typed shapes of the registry's API answers."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class LocationOut(Schema):
    lng: float
    lat: float
    crs: str = "wgs84"
    grid_cell: str | None
    compound: str | None
    neighbourhood: str | None
    subdistrict: str | None


class CompoundOut(Schema):
    code: str
    name: str
    compound_type: str
    tags: list[str]
    households: int
    population: int
    year_built: int | None
    floor_area_m2: float | None
    address: str
    neighbourhood: str
    neighbourhood_name: str
    subdistrict: str
    lng: float | None
    lat: float | None


class CompoundDetailOut(CompoundOut):
    boundary: dict[str, Any] | None
    buildings: int
    entrances: int


class CompoundPatch(Schema):
    name: str | None = None
    compound_type: str | None = None
    tags: list[str] | None = None
    households: int | None = None
    population: int | None = None
    year_built: int | None = None
    floor_area_m2: float | None = None
    address: str | None = None
    note: str = ""


class CompoundPage(Schema):
    count: int
    items: list[CompoundOut]
