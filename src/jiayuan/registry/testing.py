"""Small, hand-made registries for tests: a district of squares whose answers are known.

Layout (WGS-84 degrees, all squares): district 121.40–121.60 × 31.10–31.30.
Subdistrict ``S1`` is the western half, ``S2`` the eastern. Each has two neighbourhoods
(south ``N1``, north ``N2``), each neighbourhood one grid cell covering it and two compounds
(``C1`` west, ``C2`` east, inset so streets lie between them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jiayuan.registry.models import (
    Building,
    Compound,
    Department,
    District,
    Entrance,
    GridCell,
    JointStation,
    Neighbourhood,
    Subdistrict,
)
from jiayuan.registry.services import save_with_path


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon",
            "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@dataclass
class TinyDistrict:
    district: District
    subdistricts: dict[str, Subdistrict] = field(default_factory=dict)
    neighbourhoods: dict[str, Neighbourhood] = field(default_factory=dict)
    compounds: dict[str, Compound] = field(default_factory=dict)
    grid_cells: dict[str, GridCell] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    entrances: dict[str, Entrance] = field(default_factory=dict)


def make_tiny_district() -> TinyDistrict:
    """Two subdistricts × two neighbourhoods × two compounds, with codes like 310115001001002."""
    d = save_with_path(District(code="310115", name="测试区",
                                boundary=square(121.40, 31.10, 121.60, 31.30),
                                lng=121.50, lat=31.20))
    tiny = TinyDistrict(district=d)
    for si, (sx0, sx1) in enumerate([(121.40, 121.50), (121.50, 121.60)], start=1):
        s_code = f"310115{si:03d}"
        s = save_with_path(Subdistrict(
            code=s_code, name=f"第{si}街道", district=d, kind="street" if si == 1 else "town",
            boundary=square(sx0, 31.10, sx1, 31.30), lng=(sx0 + sx1) / 2, lat=31.20))
        tiny.subdistricts[f"S{si}"] = s
        dept = save_with_path(Department(code=f"PS{si}", name=f"第{si}派出所",
                                         kind="police_station", district=d, subdistrict=s))
        tiny.departments[f"S{si}"] = dept
        for ni, (ny0, ny1) in enumerate([(31.10, 31.20), (31.20, 31.30)], start=1):
            n_code = f"{s_code}{ni:03d}"
            n = save_with_path(Neighbourhood(
                code=n_code, name=f"第{si}街道第{ni}居民区", subdistrict=s, kind="residential",
                boundary=square(sx0, ny0, sx1, ny1), lng=(sx0 + sx1) / 2, lat=(ny0 + ny1) / 2))
            key = f"S{si}N{ni}"
            tiny.neighbourhoods[key] = n
            save_with_path(JointStation(code=f"JS{n_code}", name=f"{n.name}联勤联动站",
                                        neighbourhood=n))
            tiny.grid_cells[key] = save_with_path(GridCell(
                code=f"G{n_code}", name=f"{n.name}网格", subdistrict=s, neighbourhood=n,
                boundary=square(sx0, ny0, sx1, ny1)))
            half = (sx0 + sx1) / 2
            for ci, (cx0, cx1) in enumerate([(sx0, half), (half, sx1)], start=1):
                c = save_with_path(Compound(
                    code=f"{n_code}{ci:03d}", name=f"{key}C{ci}小区", neighbourhood=n,
                    compound_type="commodity" if ci == 1 else "old_public",
                    households=100 * ci, population=250 * ci, year_built=1990 + ci,
                    boundary=square(cx0 + 0.001, ny0 + 0.001, cx1 - 0.001, ny1 - 0.001),
                    lng=(cx0 + cx1) / 2, lat=(ny0 + ny1) / 2))
                tiny.compounds[f"{key}C{ci}"] = c
                b = save_with_path(Building(code=f"{c.code}001", name="1号楼", compound=c,
                                            floors=6, households=24))
                e = save_with_path(Entrance(code=f"{b.code}01", name="1单元", building=b,
                                            door_plate="测试路1号", households=12))
                tiny.entrances[f"{key}C{ci}"] = e
    return tiny
