"""The declared format of registry spreadsheets (底数表): one sheet per kind, one column per field.

Pure data, no Django. Sheets are listed parent-before-child; an import writes them in this
order whatever order the file has. Every sheet and column has a Chinese name (what export
writes) and English aliases (accepted on import). Enumerations accept the stored code value
(``commodity``) and the Chinese label (``商品房``); export writes the Chinese label.

A record is a plain ``dict`` keyed by ``Column.field``: text as ``str`` ("" when empty),
numbers as ``int``/``float`` (or ``None``), tags as ``list[str]``, a boundary as a GeoJSON
``dict`` in WGS-84, a parent reference as the parent's code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ColumnType(StrEnum):
    TEXT = "text"
    CODE = "code"  # an identifying code: text, refused when Excel turned it into a long number
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    ENUM = "enum"
    TAGS = "tags"
    REF = "ref"  # the code of a row of another kind
    BOUNDARY = "boundary"  # GeoJSON Polygon/MultiPolygon text
    LNG = "lng"
    LAT = "lat"
    CRS = "crs"  # per-row coordinate system of this row's 经度/纬度/边界
    IGNORED = "ignored"  # read-only on export, ignored on import (e.g. 家园码)


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    aliases: tuple[str, ...] = ()
    type: ColumnType = ColumnType.TEXT
    required: bool = False
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, Chinese label)
    ref: str | None = None  # the kind a REF column points to
    unique: bool = False  # at most one row of this kind per value (one-to-one parents)
    default: Any = None  # the value an empty cell stands for
    exported: bool = True

    def names(self) -> tuple[str, ...]:
        return (self.header, self.field, *self.aliases)


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # English plural, also the accepted English sheet name
    title: str  # Chinese sheet title
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("code",)
    # Fields whose referenced row gives the path prefix; the first non-empty one wins.
    # ``None`` means the kind carries no path; () means the row is a root (a district).
    path_parents: tuple[str, ...] | None = ()
    own_path_segment: bool = True  # False: the path is the parent's (a liaison)
    # (ref field, field of the referenced row, field of this row) that must agree, e.g. a
    # neighbourhood's sector must lie in the neighbourhood's subdistrict.
    agree: tuple[tuple[str, str, str], ...] = ()
    aliases: tuple[str, ...] = ()

    def column(self, field_name: str) -> Column:
        for col in self.columns:
            if col.field == field_name:
                return col
        raise KeyError(field_name)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @property
    def refs(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.type is ColumnType.REF)


# Enumerations: (stored value, Chinese label). Values match the model choices (a test checks).
SUBDISTRICT_KINDS = (("street", "街道"), ("town", "镇"))
NEIGHBOURHOOD_KINDS = (("residential", "居民区"), ("village", "村"))
COMPOUND_TYPES = (
    ("old_public", "老旧公房"), ("commodity", "商品房"), ("resettlement", "动迁房"),
    ("affordable", "保障性住房"), ("urban_village", "城中村"),
)
DEPARTMENT_KINDS = (
    ("police_station", "派出所"), ("city_management", "城管中队"),
    ("market_supervision", "市场监管所"), ("housing_office", "房管办"),
    ("greening_sanitation", "绿化市容所"), ("fire", "消防"), ("civil_affairs", "民政"),
    ("health", "社区卫生服务中心"), ("water", "供水"), ("power", "供电"), ("gas", "燃气"),
    ("traffic_police", "交警"), ("other", "其他"),
)
UNIT_KINDS = (
    ("institution", "机关事业单位"), ("office_building", "楼宇"), ("company", "企业"),
    ("social_organisation", "社会组织"), ("school", "学校"), ("hospital", "医院"),
)

SMALL_INT_MAX = 32767
INT_MAX = 2147483647


def _code(max_length: int = 40) -> Column:
    return Column("code", "编码", ("code",), ColumnType.CODE, required=True,
                  max_length=max_length)


def _name(max_length: int) -> Column:
    return Column("name", "名称", ("name",), required=True, max_length=max_length, default="")


def _ref(field_name: str, header: str, kind: str, *, required: bool = True,
         unique: bool = False) -> Column:
    return Column(field_name, header, (f"{field_name}_code", field_name.replace("_", " ")),
                  ColumnType.REF, required=required, ref=kind, unique=unique)


def _kind(choices: tuple[tuple[str, str], ...], field_name: str = "kind") -> Column:
    return Column(field_name, "类型", ("kind", "type", field_name), ColumnType.ENUM,
                  required=True, choices=choices)


def _geo(boundary: bool = True) -> tuple[Column, ...]:
    cols = [
        Column("lng", "经度", ("lng", "longitude", "lon"), ColumnType.LNG),
        Column("lat", "纬度", ("lat", "latitude"), ColumnType.LAT),
    ]
    if boundary:
        cols.append(Column("boundary", "边界", ("boundary", "geometry", "geojson"),
                           ColumnType.BOUNDARY))
    cols.append(Column("crs", "坐标系", ("crs", "coordinate system"), ColumnType.CRS,
                       exported=False))
    return tuple(cols)


def _count(field_name: str, header: str, aliases: tuple[str, ...],
           maximum: int = INT_MAX) -> Column:
    return Column(field_name, header, aliases, ColumnType.INT, min_value=0, max_value=maximum,
                  default=0)


def _text(field_name: str, header: str, aliases: tuple[str, ...], max_length: int) -> Column:
    return Column(field_name, header, aliases, max_length=max_length, default="")


PHONE = _text("phone", "电话", ("phone", "telephone"), 30)

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("districts", "区", (_code(), _name(100), *_geo()), aliases=("district",)),
    SheetSpec(
        "subdistricts", "街道", (
            _code(), _name(100), _ref("district", "所属区编码", "districts"),
            _kind(SUBDISTRICT_KINDS), *_geo(),
        ), path_parents=("district",), aliases=("街道镇", "街镇", "subdistrict"),
    ),
    SheetSpec(
        "sectors", "片区", (
            _code(), _name(100), _ref("subdistrict", "所属街道编码", "subdistricts"),
        ), path_parents=None, aliases=("sector",),
    ),
    SheetSpec(
        "neighbourhoods", "居民区", (
            _code(), _name(100), _ref("subdistrict", "所属街道编码", "subdistricts"),
            _ref("sector", "所属片区编码", "sectors", required=False),
            _kind(NEIGHBOURHOOD_KINDS), *_geo(),
        ), path_parents=("subdistrict",), agree=(("sector", "subdistrict", "subdistrict"),),
        aliases=("居村", "neighbourhood", "neighborhoods"),
    ),
    SheetSpec(
        "compounds", "小区", (
            _code(), _name(100), _ref("neighbourhood", "所属居民区编码", "neighbourhoods"),
            _kind(COMPOUND_TYPES, "compound_type"),
            Column("tags", "标签", ("tags", "二级标签"), ColumnType.TAGS, default=[]),
            _count("households", "户数", ("households",)),
            _count("population", "人口", ("population",)),
            Column("year_built", "建成年份", ("year_built", "year"), ColumnType.INT,
                   min_value=1840, max_value=2100),
            Column("floor_area_m2", "建筑面积", ("floor_area_m2", "floor_area", "建筑面积(㎡)"),
                   ColumnType.FLOAT, min_value=0),
            _text("address", "地址", ("address",), 200), *_geo(),
        ), path_parents=("neighbourhood",), aliases=("compound",),
    ),
    SheetSpec(
        "buildings", "楼栋", (
            _code(), _name(100), _ref("compound", "所属小区编码", "compounds"),
            _count("floors", "层数", ("floors",), SMALL_INT_MAX),
            _count("households", "户数", ("households",)),
            Column("year_built", "建成年份", ("year_built", "year"), ColumnType.INT,
                   min_value=0, max_value=SMALL_INT_MAX),
            Column("has_elevator", "有电梯", ("has_elevator", "elevator", "电梯"),
                   ColumnType.BOOL, default=False),
            *_geo(),
        ), path_parents=("compound",), aliases=("building",),
    ),
    SheetSpec(
        "entrances", "门洞", (
            _code(), _name(100), _ref("building", "所属楼栋编码", "buildings"),
            _text("door_plate", "门牌", ("door_plate", "door plate"), 120),
            _count("households", "户数", ("households",)),
            Column("home_code", "家园码", ("home_code",), ColumnType.IGNORED, exported=False),
            *_geo(),
        ), path_parents=("building",), aliases=("楼组", "门牌", "entrance"),
    ),
    SheetSpec(
        "grid_cells", "网格", (
            _code(), _name(100), _ref("subdistrict", "所属街道编码", "subdistricts"),
            _ref("neighbourhood", "所属居民区编码", "neighbourhoods", required=False),
            *_geo(),
        ), path_parents=("neighbourhood", "subdistrict"),
        agree=(("neighbourhood", "subdistrict", "subdistrict"),),
        aliases=("单元网格", "grid cells", "gridcells", "grid_cell"),
    ),
    SheetSpec(
        "departments", "部门", (
            _code(), _name(120), _kind(DEPARTMENT_KINDS),
            _ref("district", "所属区编码", "districts"),
            _ref("subdistrict", "所属街道编码", "subdistricts", required=False), PHONE,
        ), path_parents=("subdistrict", "district"),
        agree=(("subdistrict", "district", "district"),),
        aliases=("条线部门", "department"),
    ),
    SheetSpec(
        "operations_centres", "城运中心", (
            _code(), _name(120), _ref("district", "所属区编码", "districts"),
            _ref("subdistrict", "所属街道编码", "subdistricts", required=False, unique=True),
            PHONE,
        ), path_parents=("subdistrict", "district"),
        agree=(("subdistrict", "district", "district"),),
        aliases=("operations centres", "operations_centers", "operations_centre"),
    ),
    SheetSpec(
        "joint_stations", "联勤联动站", (
            _code(), _name(120),
            _ref("neighbourhood", "所属居民区编码", "neighbourhoods", unique=True), PHONE,
        ), path_parents=("neighbourhood",), aliases=("joint stations", "joint_station"),
    ),
    SheetSpec(
        "liaisons", "联络员", (
            _ref("department", "所属部门编码", "departments"),
            _ref("neighbourhood", "所属居民区编码", "neighbourhoods"),
            Column("name", "姓名", ("name", "名称"), required=True, max_length=50, default=""),
            PHONE,
        ), key=("department", "neighbourhood"), path_parents=("neighbourhood",),
        own_path_segment=False, aliases=("liaison",),
    ),
    SheetSpec(
        "units", "单位", (
            _code(), _name(120), _kind(UNIT_KINDS),
            _ref("subdistrict", "所属街道编码", "subdistricts"),
            _ref("neighbourhood", "所属居民区编码", "neighbourhoods", required=False),
            _text("address", "地址", ("address",), 200), PHONE, *_geo(boundary=False),
        ), path_parents=("neighbourhood", "subdistrict"),
        agree=(("neighbourhood", "subdistrict", "subdistrict"),),
        aliases=("社区单位", "unit"),
    ),
)

SHEETS_BY_KIND: dict[str, SheetSpec] = {s.kind: s for s in SHEETS}
KIND_ORDER: tuple[str, ...] = tuple(s.kind for s in SHEETS)


def _norm(name: str) -> str:
    return "".join(str(name).split()).lower().replace("-", "_")


_SHEET_NAMES: dict[str, SheetSpec] = {}
for _spec in SHEETS:
    for _n in (_spec.kind, _spec.title, *_spec.aliases):
        _SHEET_NAMES[_norm(_n)] = _spec
        _SHEET_NAMES[_norm(_n).replace(" ", "_")] = _spec


def sheet_for(name: str) -> SheetSpec | None:
    """The sheet spec a sheet title or file stem names (Chinese title or English kind)."""
    return _SHEET_NAMES.get(_norm(name))


def column_for(spec: SheetSpec, header: str) -> Column | None:
    """The column a header names in this sheet (Chinese header, field name or an alias)."""
    wanted = _norm(header)
    for col in spec.columns:
        if any(_norm(n) == wanted for n in col.names()):
            return col
    return None


def key_of(spec: SheetSpec, record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(record.get(f) or "") for f in spec.key)


def label_of(choices: tuple[tuple[str, str], ...], value: str) -> str:
    """The Chinese label of a stored enumeration value (the value itself if unknown)."""
    return dict(choices).get(value, value)
