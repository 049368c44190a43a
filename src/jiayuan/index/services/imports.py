"""Import a VALUES sheet (surveys, fee collection, inspections…) into ``LeafValue``.

The sheet is ``index.io``'s VALUES format: ``compound_code, compound_type, period,
indicator_code, value``. Every row is checked first — the reader's checks (unknown indicator
or type, a self-growth leaf supplied, non-numeric value, duplicate rows) plus the registry's:
the compound must exist, be of the type given and lie in the importer's area, and the period
must be the one imported into (when given) or a valid label. Any problem refuses the whole
sheet (``ImportRejected`` listing every problem with its row) and nothing is stored.
Otherwise the rows replace the period's earlier imported values of the same compound and
leaf (others stay). Imported values take precedence over derived ones of the same leaf in a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from jiayuan.accounts.scope import AreaScope
from jiayuan.core.errors import ImportRejected
from jiayuan.core.uploads import Limits, web_limits
from jiayuan.index import io
from jiayuan.index.engine import Catalogue, default_catalogue
from jiayuan.index.models import IndexPeriod, LeafValue
from jiayuan.index.services.periods import get_or_create_period, parse_label
from jiayuan.registry.models import Compound


@transaction.atomic
def import_values(
    path: str | Path, *, scope: AreaScope, period: IndexPeriod | None = None, user: Any = None,
    catalogue: Catalogue | None = None, file_name: str | None = None,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """Store the sheet's values; returns {"rows": n, "periods": [...], "indicators": [...]}.
    The file is read within ``limits`` (default: the web's; ``core.uploads``)."""
    cat = catalogue or default_catalogue()
    limits = limits or web_limits()
    records, problems = io.read_values(path, cat, limits=limits)
    name, header, rows = io.read_table(path, limits=limits)
    name = file_name or name
    known = {code: (cid, ctype, cpath) for code, cid, ctype, cpath in
             Compound.objects.values_list("code", "id", "compound_type", "path")}
    for n, r in rows:
        comp = io._text(r.get("compound_code"))
        typ = io._text(r.get("compound_type"))
        per = io._text(r.get("period"))
        if comp:
            hit = known.get(comp)
            if hit is None or not scope.covers(hit[2]):
                # a compound of another area reads as unknown: the file learns nothing of it
                problems.append(io._problem(name, n, "compound_code",
                                            f"登记册中没有小区 {comp!r}"))
            else:
                if typ and hit[1] != typ:
                    problems.append(io._problem(
                        name, n, "compound_type",
                        f"小区 {comp} 在登记册中的类型是 {hit[1]}，表中写的是 {typ}"))
        if per:
            if period is not None and per.upper() != period.label:
                problems.append(io._problem(name, n, "period",
                                            f"期数 {per} 与导入的期数 {period.label} 不符"))
            elif period is None:
                try:
                    parse_label(per)
                except Exception:  # noqa: BLE001 — reported as a row problem
                    problems.append(io._problem(name, n, "period",
                                                f"期数 {per!r} 应为年份（2026）或季度（2026Q1）"))
    if not records and not problems:
        problems.append(io._problem(name, None, None, "表中没有数据行"))
    if problems:
        problems.sort(key=lambda p: (p["row"] or 0))
        raise ImportRejected(problems, f"数据表有 {len(problems)} 处问题，未导入任何数据")
    periods: dict[str, IndexPeriod] = {}
    new: list[LeafValue] = []
    for comp, _typ, per, code, value in records:
        label = per.strip().upper()
        if label not in periods:
            periods[label] = period if period is not None else get_or_create_period(label)
        new.append(LeafValue(period=periods[label], compound_id=known[comp][0], indicator=code,
                             value=value, source=LeafValue.Source.IMPORT,
                             origin=name[:200], recorded_by=user))
    LeafValue.objects.bulk_create(
        new, batch_size=5000, update_conflicts=True,
        unique_fields=["period", "compound", "indicator", "source"],
        update_fields=["value", "reason", "origin", "recorded_by", "recorded_at"],
    )
    return {"rows": len(new), "periods": sorted(periods),
            "indicators": sorted({r[3] for r in records})}
