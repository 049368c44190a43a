"""Write a planned demo district into the registry, in bulk.

Rows get exactly the ``path`` that ``registry.services.compute_path`` would give them, but are
inserted with ``bulk_create`` in chunks (dwellings with ``executemany``) so the Pudong scale,
about two million rows, fits in minutes and a bounded amount of memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from jiayuan.accounts.models import User
from jiayuan.core.errors import Conflict, ValidationFailed
from jiayuan.demo.generator.plan import SCALES, CompoundPlan, DistrictPlan, dwellings, plan
from jiayuan.registry.models import (
    Building,
    Compound,
    Department,
    District,
    Entrance,
    GridCell,
    Household,
    JointStation,
    Liaison,
    Neighbourhood,
    OperationsCentre,
    RegistryEvent,
    Sector,
    Subdistrict,
    Unit,
)

Progress = Callable[[str], None]

# Children before parents: the order a wipe must follow.
REGISTRY_MODELS: tuple[type[models.Model], ...] = (
    Household, Entrance, Building, Liaison, JointStation, Unit, GridCell, Compound,
    Neighbourhood, Sector, Department, OperationsCentre, Subdistrict, District,
)
CHUNK = 2000
HOUSEHOLD_CHUNK = 20_000


def home_code(seed: int, entrance_code: str) -> str:
    """The entrance's home-code token: HMAC-SHA256(SECRET_KEY, seed:code), 128 bits, URL-safe.

    Deterministic for one deployment's secret, unguessable without it.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{seed}:{entrance_code}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def _geo(geom: BaseGeometry) -> dict[str, Any]:
    return dict(mapping(geom))


def wipe_registry() -> None:
    """Delete every registry row (history rows in ``RegistryEvent`` are kept), and first the
    modules' demo data and the demo's cases, which point at registry places."""
    from jiayuan.cases.models import Case, CaseAttachment, CaseEvent, Notification
    from jiayuan.demo.modules import wipe_modules

    wipe_modules()
    for model in (Notification, CaseAttachment, CaseEvent):
        model.objects.all()._raw_delete(model.objects.db)  # type: ignore[attr-defined]
    Case.objects.update(merged_into=None)
    Case.objects.all()._raw_delete(Case.objects.db)  # type: ignore[attr-defined]
    User.objects.filter(department__isnull=False).update(department=None)
    for model in REGISTRY_MODELS:
        model.objects.all()._raw_delete(model.objects.db)  # type: ignore[attr-defined]


def generate(scale: str, seed: int, *, progress: Progress | None = None,
             replace: bool = False) -> dict[str, int]:
    """Generate the demo district of ``scale`` from ``seed`` and return the row counts.

    Refuses an unknown scale, and a database that already holds a district unless ``replace``
    (which first wipes the registry tables). All or nothing: one transaction.
    """
    say: Progress = progress or (lambda _msg: None)
    if scale not in SCALES:
        raise ValidationFailed(f"未知规模“{scale}”，可用：{'、'.join(SCALES)}")
    started = time.monotonic()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A second generate waits here, then sees the district and refuses.
            table = connection.ops.quote_name(District._meta.db_table)
            with connection.cursor() as cur:
                cur.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")  # noqa: S608
        if District.objects.exists():
            if not replace:
                raise Conflict("数据库中已有区级数据；如需替换，请使用 --replace")
            say("清空现有底数 / wiping the existing registry")
            wipe_registry()
        say(f"规划 / planning {scale} (seed {seed})")
        p = plan(scale, seed)
        counts = _write(p, say)
        RegistryEvent.objects.create(
            action=RegistryEvent.Action.GENERATE, object_type="district", object_code=p.code,
            summary={"scale": scale, "seed": seed, "counts": counts},
            note=f"生成演示数据（{scale}，种子 {seed}）",
        )
    counts["seconds"] = round(time.monotonic() - started)
    return counts


def _bulk(model: type[models.Model], objs: list[Any]) -> list[Any]:
    return model.objects.bulk_create(objs, batch_size=CHUNK)  # type: ignore[attr-defined, no-any-return]


def _write(p: DistrictPlan, say: Progress) -> dict[str, int]:
    d = District(code=p.code, name=p.name, path=f"{p.code}/", boundary=_geo(p.geom),
                 lng=p.lng, lat=p.lat)
    d.save()
    subs = _bulk(Subdistrict, [
        Subdistrict(code=s.code, name=s.name, kind=s.kind, district=d, path=f"{d.path}{s.code}/",
                    boundary=_geo(s.geom), lng=s.lng, lat=s.lat)
        for s in p.subdistricts])
    sub_by_code = {s.code: s for s in subs}
    say(f"街道/镇 subdistricts: {len(subs)}")

    hoods: list[Neighbourhood] = []
    for sp in p.subdistricts:
        s = sub_by_code[sp.code]
        hoods += [Neighbourhood(code=n.code, name=n.name, kind=n.kind, subdistrict=s,
                                path=f"{s.path}{n.code}/", boundary=_geo(n.geom),
                                lng=n.lng, lat=n.lat) for n in sp.neighbourhoods]
    hoods = _bulk(Neighbourhood, hoods)
    hood_by_code = {n.code: n for n in hoods}
    say(f"居民区/村 neighbourhoods: {len(hoods)}")

    cells: list[GridCell] = []
    stations: list[JointStation] = []
    for sp in p.subdistricts:
        for np_ in sp.neighbourhoods:
            n = hood_by_code[np_.code]
            cells += [GridCell(code=g.code, name=g.name, subdistrict=n.subdistrict,
                               neighbourhood=n, path=f"{n.path}{g.code}/", boundary=_geo(g.geom))
                      for g in np_.grid_cells]
            code = f"{n.code}JS"
            stations.append(JointStation(code=code, name=f"{n.name}联勤联动站", neighbourhood=n,
                                         path=f"{n.path}{code}/"))
    _bulk(GridCell, cells)
    _bulk(JointStation, stations)
    say(f"网格 grid cells: {len(cells)}, 联勤联动站 joint stations: {len(stations)}")

    assert p.operations_centre is not None
    depts = [Department(code=o.code, name=o.name, kind=o.kind, phone=o.phone, district=d,
                        path=f"{d.path}{o.code}/") for o in p.departments]
    centres = [OperationsCentre(code=p.operations_centre.code, name=p.operations_centre.name,
                                phone=p.operations_centre.phone, district=d,
                                path=f"{d.path}{p.operations_centre.code}/")]
    units: list[Unit] = []
    for sp in p.subdistricts:
        s = sub_by_code[sp.code]
        depts += [Department(code=o.code, name=o.name, kind=o.kind, phone=o.phone, district=d,
                             subdistrict=s, path=f"{s.path}{o.code}/") for o in sp.departments]
        assert sp.operations_centre is not None
        oc = sp.operations_centre
        centres.append(OperationsCentre(code=oc.code, name=oc.name, phone=oc.phone, district=d,
                                        subdistrict=s, path=f"{s.path}{oc.code}/"))
        for u in sp.units:
            n = hood_by_code[u.neighbourhood] if u.neighbourhood else None
            units.append(Unit(code=u.code, name=u.name, kind=u.kind, phone=u.phone,
                              subdistrict=s, neighbourhood=n, address=u.address, lng=u.lng,
                              lat=u.lat, path=f"{(n or s).path}{u.code}/"))
    depts = _bulk(Department, depts)
    _bulk(OperationsCentre, centres)
    _bulk(Unit, units)
    dept_by_code = {x.code: x for x in depts}
    liaisons = [Liaison(department=dept_by_code[li.department],
                        neighbourhood=hood_by_code[li.neighbourhood], name=li.name,
                        phone=li.phone, path=hood_by_code[li.neighbourhood].path)
                for sp in p.subdistricts for li in sp.liaisons]
    _bulk(Liaison, liaisons)
    say(f"部门 departments: {len(depts)}, 城运中心 centres: {len(centres)}, "
        f"联络员 liaisons: {len(liaisons)}, 单位 units: {len(units)}")

    compounds: list[tuple[CompoundPlan, Compound]] = []
    for cp in p.compounds():
        n = hood_by_code[cp.code[:12]]
        compounds.append((cp, Compound(
            code=cp.code, name=cp.name, neighbourhood=n, compound_type=cp.compound_type,
            tags=cp.tags, households=cp.households, population=cp.population,
            year_built=cp.year_built, floor_area_m2=cp.floor_area_m2, address=cp.address,
            path=f"{n.path}{cp.code}/", boundary=_geo(cp.geom), lng=cp.lng, lat=cp.lat)))
    _bulk(Compound, [c for _, c in compounds])
    say(f"小区 compounds: {len(compounds)}")

    totals = {"buildings": 0, "entrances": 0, "households": 0}
    step = max(1, len(compounds) // 10)
    for i in range(0, len(compounds), 50):
        _write_dwellings(compounds[i:i + 50], p.seed, totals)
        if (i // 50) % max(1, step // 50) == 0 or i + 50 >= len(compounds):
            done = min(i + 50, len(compounds))
            say(f"楼栋/门牌/户 dwellings: {done}/{len(compounds)} compounds, "
                f"{totals['households']:,} households")

    return {"subdistricts": len(subs), "neighbourhoods": len(hoods), "compounds": len(compounds),
            **totals, "grid_cells": len(cells), "departments": len(depts),
            "operations_centres": len(centres), "joint_stations": len(stations),
            "liaisons": len(liaisons), "units": len(units)}


def _write_dwellings(batch: Iterable[tuple[CompoundPlan, Compound]], seed: int,
                     totals: dict[str, int]) -> None:
    planned = [(cp, c, dwellings(cp, seed)) for cp, c in batch]
    buildings = [
        Building(code=b.code, name=b.name, compound=c, floors=b.floors,
                 households=b.households, year_built=b.year_built, has_elevator=b.has_elevator,
                 lng=b.lng, lat=b.lat, path=f"{c.path}{b.code}/")
        for _, c, bs in planned for b in bs]
    buildings = _bulk(Building, buildings)
    by_code = {b.code: b for b in buildings}
    entrances: list[Entrance] = []
    rooms: list[tuple[int, str, float]] = []  # (index into entrances, room, area)
    for _, _, bs in planned:
        for bp in bs:
            b = by_code[bp.code]
            for ep in bp.entrances:
                idx = len(entrances)
                entrances.append(Entrance(
                    code=ep.code, name=ep.name, building=b, door_plate=ep.door_plate,
                    households=len(ep.rooms), home_code=home_code(seed, ep.code),
                    lng=ep.lng, lat=ep.lat, path=f"{b.path}{ep.code}/"))
                rooms += [(idx, r, a) for r, a in zip(ep.rooms, ep.areas, strict=True)]
    entrances = _bulk(Entrance, entrances)
    table = connection.ops.quote_name(Household._meta.db_table)
    sql = (f"INSERT INTO {table} (entrance_id, compound_id, room, floor_area_m2) "  # noqa: S608
           "VALUES (%s, %s, %s, %s)")
    rows = [(entrances[i].pk, entrances[i].building.compound_id, r, a) for i, r, a in rooms]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # COPY is several times faster than batched INSERTs on PostgreSQL (psycopg 3).
            copy_sql = f"COPY {table} (entrance_id, compound_id, room, floor_area_m2) FROM STDIN"
            with cur.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            for k in range(0, len(rows), HOUSEHOLD_CHUNK):
                cur.executemany(sql, rows[k:k + HOUSEHOLD_CHUNK])
    totals["buildings"] += len(buildings)
    totals["entrances"] += len(entrances)
    totals["households"] += len(rows)


def registry_checksum() -> str:
    """SHA-256 over every registry row's content, foreign keys by code, timestamps and ids left
    out: equal for two generations from the same seed (and the same secret key)."""
    h = hashlib.sha256()
    for model in reversed(REGISTRY_MODELS):
        cols: list[str] = []
        for f in model._meta.concrete_fields:
            if f.name in {"id", "created_at", "updated_at"}:
                continue
            if f.is_relation:
                related = f.related_model
                if related is User:
                    continue
                cols.append(f"{f.name}__code")
            else:
                cols.append(f.name)
        if model is Household:
            order = ["entrance__code", "room"]
        elif model is Liaison:
            order = ["department__code", "neighbourhood__code"]
        else:
            order = ["code"]
        h.update(model.__name__.encode())
        for row in model.objects.order_by(*order).values_list(*cols).iterator(chunk_size=5000):
            h.update(repr(row).encode())
    return h.hexdigest()
