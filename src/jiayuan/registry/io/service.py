"""Import and export of the registry (底数) — the Django side.

``import_registry`` validates a whole file against the registry (``parse.parse_tables``),
refuses it with every problem (``ImportRejected``) if anything is wrong, and otherwise writes
it in one transaction: upsert by code (a liaison by department + neighbourhood), paths set
exactly as ``registry.services.compute_path`` would, descendants moved with
``registry.services.rewrite_paths``, one ``RegistryEvent(action=import)`` with the counts.
Columns a file leaves out keep their stored values; entrances' home-code tokens are never
touched. ``export_registry`` gives back records that import again unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from jiayuan.accounts.permissions import require
from jiayuan.core.errors import ImportRejected, ValidationFailed
from jiayuan.core.uploads import cli_limits
from jiayuan.registry.io.files import (
    SourceError,
    export_columns,
    read_path,
    write_csv_dir,
    write_csv_zip,
    write_xlsx,
)
from jiayuan.registry.io.parse import (
    Key,
    ParsedSheet,
    RawSheet,
    parse_tables,
    problem,
    same_value,
)
from jiayuan.registry.io.spec import (
    KIND_ORDER,
    SHEETS_BY_KIND,
    ColumnType,
    SheetSpec,
    key_of,
    sheet_for,
)
from jiayuan.registry.models import (
    Building,
    Compound,
    Department,
    District,
    Entrance,
    GridCell,
    JointStation,
    Liaison,
    Neighbourhood,
    OperationsCentre,
    RegistryEvent,
    Sector,
    Subdistrict,
    Unit,
)
from jiayuan.registry.services import rewrite_paths

MODELS: dict[str, type[models.Model]] = {
    "districts": District, "subdistricts": Subdistrict, "sectors": Sector,
    "neighbourhoods": Neighbourhood, "compounds": Compound, "buildings": Building,
    "entrances": Entrance, "grid_cells": GridCell, "departments": Department,
    "operations_centres": OperationsCentre, "joint_stations": JointStation,
    "liaisons": Liaison, "units": Unit,
}
PLACE_KINDS = ("districts", "subdistricts", "neighbourhoods", "compounds")
BATCH = 1000

Records = dict[Key, dict[str, Any]]


@dataclass
class ImportReport:
    """What an import did (or would do, on a dry run), per sheet kind."""

    file_name: str
    sha256: str
    dry_run: bool = False
    sheets: dict[str, dict[str, int]] = field(default_factory=dict)
    event_id: int | None = None

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.sheets.values())


def _value_fields(spec: SheetSpec) -> list[str]:
    return export_columns(spec)


def load_records(kind: str, *, where: Q | None = None) -> Records:
    """Stored rows of one kind as import records (parent references as codes), by key.

    Each record also carries ``_pk`` and ``_path`` for the writer.
    """
    spec = SHEETS_BY_KIND[kind]
    model = MODELS[kind]
    lookups: dict[str, str] = {}
    for name in _value_fields(spec):
        col = spec.column(name)
        lookups[name] = f"{name}__code" if col.type is ColumnType.REF else name
    extra = ["pk"] + (["path"] if spec.path_parents is not None else [])
    qs = model.objects.all()
    if where is not None:
        qs = qs.filter(where)
    out: Records = {}
    for row in qs.order_by("pk").values(*lookups.values(), *extra):
        record = {name: row[lookup] for name, lookup in lookups.items()}
        record["_pk"] = row["pk"]
        record["_path"] = row.get("path")
        out[key_of(spec, record)] = record
    return out


def _kinds_touched(raw_sheets: Iterable[RawSheet]) -> set[str]:
    kinds: set[str] = set()
    for raw in raw_sheets:
        spec = sheet_for(raw.kind_hint or raw.name)
        if spec is None:
            continue
        kinds.add(spec.kind)
        kinds.update(c.ref for c in spec.refs if c.ref)
    return kinds


def import_file(path: Path, *, sheet: str | None = None, **kwargs: Any) -> ImportReport:
    """Read a file, folder or .zip and import it (see ``import_registry``), within the import
    command's limits (``core.uploads.cli_limits``)."""
    try:
        raw, digest = read_path(path, sheet=sheet, limits=cli_limits())
    except SourceError as exc:
        raise ImportRejected([dict(problem(path.name, None, None, str(exc)))]) from None
    return import_registry(raw_sheets=raw, file_name=path.name, sha256=digest, **kwargs)


def import_registry(
    *, raw_sheets: list[RawSheet], file_name: str, sha256: str, actor: Any = None,
    default_crs: str | None = None, dry_run: bool = False,
) -> ImportReport:
    """Validate every row of every sheet, then upsert all of them in one transaction.

    Refuses an actor without the ``registry.import`` capability (``Forbidden``), and any file
    with a problem (``ImportRejected`` listing every one); in both cases nothing is written.
    On ``dry_run`` the counts are computed and the transaction rolled back (no event row).
    """
    if actor is not None:
        require(actor, "registry.import")
    existing = {kind: load_records(kind) for kind in _kinds_touched(raw_sheets)}
    result = parse_tables(raw_sheets, default_crs=default_crs, existing=existing)
    if result.problems:
        raise ImportRejected([dict(p) for p in result.problems])
    if not result.sheets:
        raise ImportRejected([dict(problem(file_name, None, None, "文件里没有可导入的工作表"))])
    report = ImportReport(file_name=file_name, sha256=sha256, dry_run=dry_run)
    with transaction.atomic():
        _Writer(existing, report).write(result.sheets)
        if dry_run:
            transaction.set_rollback(True)
        else:
            event = RegistryEvent.objects.create(
                actor=actor, action=RegistryEvent.Action.IMPORT, object_type="registry",
                note=file_name[:300],
                summary={"file": file_name, "sha256": sha256, "changed": report.changed,
                         "sheets": report.sheets},
            )
            report.event_id = event.pk
    return report


class _Writer:
    def __init__(self, existing: Mapping[str, Records], report: ImportReport) -> None:
        self.existing = existing
        self.report = report
        self.refmaps: dict[str, dict[str, tuple[int, str | None]]] = {}
        self.moved = False
        self.now = timezone.now()

    def refmap(self, kind: str) -> dict[str, tuple[int, str | None]]:
        """code → (pk, path) of every stored row of a kind, loaded after that kind is written."""
        if kind not in self.refmaps:
            spec = SHEETS_BY_KIND[kind]
            fields = ["code", "pk"] + (["path"] if spec.path_parents is not None else [])
            self.refmaps[kind] = {
                row[0]: (row[1], row[2] if len(row) > 2 else None)
                for row in MODELS[kind].objects.values_list(*fields)
            }
        return self.refmaps[kind]

    def write(self, sheets: Mapping[str, ParsedSheet]) -> None:
        for kind in KIND_ORDER:
            if kind in sheets:
                self.write_sheet(sheets[kind])

    def write_sheet(self, sheet: ParsedSheet) -> None:
        spec = sheet.spec
        kind = spec.kind
        model = MODELS[kind]
        # After a move, stored paths below it changed: compare against fresh rows.
        current = load_records(kind) if self.moved else self.existing.get(kind, {})
        refs = list(spec.refs)
        plain = [f for f in sheet.fields if spec.column(f).type is not ColumnType.REF]
        creates: list[dict[str, Any]] = []
        updates: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        moves: list[tuple[str, str]] = []
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        for row in sheet.rows:
            record = row.record
            old = current.get(key_of(spec, record))
            merged = {**(old or {}), **record}
            values: dict[str, Any] = {f: record[f] for f in plain if f in record}
            changed = {f for f in plain
                       if f in record and (old is None or not same_value(old.get(f), record[f]))}
            for col in refs:
                if col.field not in sheet.fields:
                    continue
                code = merged.get(col.field)
                assert col.ref is not None
                values[f"{col.field}_id"] = self.refmap(col.ref)[code][0] if code else None
                if old is None or old.get(col.field) != (code or None):
                    changed.add(f"{col.field}_id")
            path = self.path_for(spec, merged)
            if path is not None:
                values["path"] = path
                if old is None or old["_path"] != path:
                    changed.add("path")
            if old is None:
                creates.append(values)
                counts["created"] += 1
            elif changed:
                update = {f: values[f] for f in changed}
                update["id"] = old["_pk"]
                updates[frozenset(changed)].append(update)
                counts["updated"] += 1
                if "path" in changed and old["_path"] and spec.own_path_segment:
                    moves.append((old["_path"], path or ""))
            else:
                counts["unchanged"] += 1
        insert_rows(model, creates, now=self.now)
        for fields, rows in updates.items():
            update_rows(model, sorted(fields), rows, now=self.now)
        for old_path, new_path in moves:
            rewrite_paths(old_path, new_path)
        if moves:
            self.moved = True
            self.refmaps.clear()
        self.refmaps.pop(kind, None)
        self.report.sheets[kind] = counts

    def path_for(self, spec: SheetSpec, merged: Mapping[str, Any]) -> str | None:
        """The path ``registry.services.compute_path`` gives the row, from stored parents."""
        if spec.path_parents is None:
            return None
        prefix = ""
        for parent_field in spec.path_parents:
            code = merged.get(parent_field)
            if code:
                ref = spec.column(parent_field).ref
                assert ref is not None
                prefix = self.refmap(ref)[code][1] or ""
                break
        return prefix + (f"{merged['code']}/" if spec.own_path_segment else "")


# Plain INSERT/UPDATE with executemany: the ORM's per-object overhead is most of the time of
# a district-sized import, and these rows need none of it (validated already, no signals).

def _prepare(field: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(field, models.JSONField):
        return field.get_db_prep_save(value, connection)
    return value


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]], *,
                now: datetime) -> None:
    """Insert rows given as {attname: value}; other columns get their defaults (a new
    home-code token per entrance), ``created_at``/``updated_at`` get ``now``."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamp = {f.attname: f.get_db_prep_save(now, connection) for f in fields
             if f.attname in ("created_at", "updated_at")}
    qn = connection.ops.quote_name
    # Identifiers come from model metadata only; every value is a query parameter.
    columns = ", ".join(qn(f.column) for f in fields)
    sql = (f"INSERT INTO {qn(model._meta.db_table)} ({columns}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    params = []
    for row in rows:
        values = []
        for f in fields:
            if f.attname in stamp:
                values.append(stamp[f.attname])
            elif f.attname in row:
                values.append(_prepare(f, row[f.attname]))
            else:
                values.append(_prepare(f, f.get_default()))
        params.append(values)
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH):
            cursor.executemany(sql, params[start:start + BATCH])


def update_rows(model: type[models.Model], attnames: list[str], rows: list[dict[str, Any]],
                *, now: datetime) -> None:
    """Set the given columns of rows identified by ``id`` (and ``updated_at`` to ``now``)."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_attname[a] for a in attnames]
    stamped = "updated_at" in by_attname
    qn = connection.ops.quote_name
    sets = [f"{qn(f.column)} = %s" for f in fields]
    if stamped:
        sets.append(f"{qn('updated_at')} = %s")
        stamp = by_attname["updated_at"].get_db_prep_save(now, connection)
    sql = f"UPDATE {qn(model._meta.db_table)} SET {', '.join(sets)} WHERE {qn('id')} = %s"  # noqa: S608
    params = []
    for row in rows:
        values = [_prepare(f, row[f.attname]) for f in fields]
        if stamped:
            values.append(stamp)
        values.append(row["id"])
        params.append(values)
    with connection.cursor() as cursor:
        for start in range(0, len(params), BATCH):
            cursor.executemany(sql, params[start:start + BATCH])


# --- export ----------------------------------------------------------------------------------

def export_registry(*, area: str | None = None) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every kind's rows as records, sorted by key; with ``area`` (a place code, optionally
    ``kind:code``) only the rows under that place plus the place and its ancestors.

    Refuses an unknown area (``NotFound``).
    """
    if not area:
        loaded = {kind: load_records(kind) for kind in KIND_ORDER}
    else:
        from jiayuan.accounts.services import resolve_region

        _, place = resolve_region(area)
        prefix = place.path
        ancestors = [c for c in prefix.split("/") if c]
        loaded = {}
        for kind in KIND_ORDER:
            if SHEETS_BY_KIND[kind].path_parents is None:
                continue
            q = Q(path__startswith=prefix)
            if kind in PLACE_KINDS:
                q |= Q(code__in=ancestors)
            loaded[kind] = load_records(kind, where=q)
        used = {r["sector"] for r in loaded["neighbourhoods"].values() if r.get("sector")}
        loaded["sectors"] = load_records(
            "sectors", where=Q(subdistrict__path__startswith=prefix) | Q(code__in=used))
    return [(kind, [loaded[kind][k] for k in sorted(loaded[kind])]) for kind in KIND_ORDER]


def export_file(target: Path, *, area: str | None = None) -> dict[str, int]:
    """Write the export to ``.xlsx``, a ``.zip`` of CSV files, or a folder of CSV files.

    Returns the row count per kind. Refuses other file types (``ValidationFailed``).
    """
    suffix = target.suffix.lower()
    if suffix not in {".xlsx", ".zip", ""} and not target.is_dir():
        raise ValidationFailed(f"不支持导出为“{suffix}”，请用 .xlsx、.zip 或文件夹")
    sheets = export_registry(area=area)
    try:
        if suffix == ".xlsx":
            write_xlsx(target, sheets)
        elif suffix == ".zip":
            write_csv_zip(target, sheets)
        else:
            write_csv_dir(target, sheets)
    except SourceError as exc:
        raise ValidationFailed(str(exc)) from None
    return {kind: len(records) for kind, records in sheets}
