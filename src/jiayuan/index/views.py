"""Pages of the governance index: rankings, map, compound, diagnostics, runs, import, export,
printable report. Thin: parse, call selectors/services with the viewer's area scope, render.

Who may look: district analysts, duty officers, neighbourhood staff (their granted area) and
administrators. Who may compute and import: district analysts, duty officers, administrators.
Diagnostics (type-wide statistics) are for the district roles only.
"""

from __future__ import annotations

import io as _io
import math
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiayuan.accounts.scope import scope_for
from jiayuan.core import exports, uploads
from jiayuan.core.errors import DomainError, Forbidden, ImportRejected, NotFound
from jiayuan.index import selectors
from jiayuan.index.engine import COMPOUND_TYPES
from jiayuan.index.models import CompoundScore, IndexRun
from jiayuan.index.services.imports import import_values
from jiayuan.index.services.periods import get_or_create_period
from jiayuan.index.services.runs import request_run
from jiayuan.registry.models import CompoundType
from jiayuan.web.errors import page_errors

VIEW_ROLES = frozenset({"district_analyst", "duty_officer", "neighbourhood_staff", "admin"})
COMPUTE_ROLES = frozenset({"district_analyst", "duty_officer", "admin"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 50
HEAVY = ("z", "x", "explanation", "subindices")  # not needed by lists


def may_view(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in VIEW_ROLES))


def may_compute(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in COMPUTE_ROLES))


def _require(ok: bool) -> None:
    if not ok:
        raise Forbidden()


def _type_labels() -> dict[str, str]:
    return {t.value: str(t.label) for t in CompoundType}


def dimension_labels() -> dict[str, str]:
    return {"management_precision": _("Management precision"),
            "community_vitality": _("Community vitality"),
            "resident_satisfaction": _("Resident satisfaction"),
            "capacity_progress": _("Capacity progress")}


def _run_for(request: HttpRequest) -> IndexRun | None:
    """The latest finished run of the period asked for (none if it was never computed), or
    of the latest period when none is asked for."""
    label = request.GET.get("period")
    if not label:
        return selectors.latest_run(None)
    period = selectors.period_by_label(label)
    return selectors.latest_run(period) if period is not None else None


def _area_label(user: Any) -> str:
    scope = scope_for(user)
    return _("Whole district") if scope.everywhere else _("Your area")


def _fmt(v: float | None, digits: int = 2) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


@require_GET
@login_required
@page_errors
def home(request: HttpRequest) -> HttpResponse:
    _require(may_view(request.user))
    scope = scope_for(request.user)
    run = _run_for(request)
    ctx: dict[str, Any] = {
        "run": run, "periods": selectors.periods(), "may_compute": may_compute(request.user),
        "runs": selectors.recent_runs() if may_compute(request.user) else [],
        "type_labels": _type_labels(), "dims": dimension_labels(), "area": _area_label(request.user),
    }
    if run is not None:
        counts = selectors.type_counts(scope, run)
        ctype = request.GET.get("type")
        if ctype not in COMPOUND_TYPES:
            ctype = next((t for t in COMPOUND_TYPES if counts.get(t)), COMPOUND_TYPES[0])
        sub = request.GET.get("subdistrict") or ""
        sort = request.GET.get("sort") or "rank"
        qs = selectors.scores(scope, run, compound_type=ctype, subdistrict=sub or None,
                              sort=sort).defer(*HEAVY)
        page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
        ctx.update({
            "ctype": ctype, "counts": counts, "sub": sub, "sort": sort, "page": page,
            "subdistricts": selectors.subdistricts(scope),
            "problems": [p for p in run.problems if p["kind"] != "unscored"],
            "unscored": sum(1 for p in run.problems if p["kind"] == "unscored"),
            "types": [(t, _type_labels()[t], counts.get(t, 0)) for t in COMPOUND_TYPES],
            "base_query": f"period={run.period.label}&type={ctype}&subdistrict={sub}",
        })
    return render(request, "index/home.html", ctx)


@require_POST
@login_required
@page_errors
def compute(request: HttpRequest) -> HttpResponse:
    _require(may_compute(request.user))
    label = (request.POST.get("period") or "").strip()
    try:
        period = get_or_create_period(label)
        run = request_run(period, user=request.user, parameters={
            "mc_draws": int(request.POST.get("mc_draws") or 1000)})
    except (DomainError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", None) or _("The period is not valid."))
        return redirect("index:home")
    messages.success(request, _("The computation is queued."))
    return redirect("index:run", run_id=run.pk)


@require_GET
@login_required
@page_errors
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    _require(may_compute(request.user))
    run = selectors.get_run(run_id)
    template = "index/_run_status.html" if request.headers.get("HX-Request") else "index/run.html"
    return render(request, template, {"run": run, "finished": run.status in ("done", "failed")})


@login_required
@page_errors
def import_page(request: HttpRequest) -> HttpResponse:
    _require(may_compute(request.user))
    ctx: dict[str, Any] = {"problems": [], "done": None}
    if request.method == "POST":
        f = request.FILES.get("file")
        label = (request.POST.get("period") or "").strip()
        try:
            if f is None:
                raise DomainError(_("Choose a .csv or .xlsx file."))
            limits = uploads.web_limits()  # over a limit: 413 with the limit in Chinese
            data = uploads.read_upload(f, limits)
            suffix = Path(f.name).suffix.lower()
            period = get_or_create_period(label) if label else None
            with tempfile.TemporaryDirectory() as tmp:
                # Named as uploaded (Django keeps only the base name), so messages name it.
                p = Path(tmp) / (Path(f.name).name or f"upload{suffix}")
                p.write_bytes(data)
                ctx["done"] = import_values(p, scope=scope_for(request.user), period=period,
                                            user=request.user, file_name=f.name, limits=limits)
        except ImportRejected as exc:
            ctx["error"] = exc.message
            ctx["problems"] = exc.problems
            status = 400
        except DomainError as exc:
            ctx["error"] = exc.message
            status = exc.status if exc.status in (413, 422) else 400
        else:
            status = 200
        ctx["period"] = label
        return render(request, "index/import.html", ctx, status=status)
    return render(request, "index/import.html", ctx)


@require_GET
@login_required
@page_errors
def map_page(request: HttpRequest) -> HttpResponse:
    _require(may_view(request.user))
    run = _run_for(request)
    return render(request, "index/map.html", {
        "run": run, "periods": selectors.periods(),
        "compound_url": reverse("index:compound", args=["CODE"]).replace("CODE", "{code}")
        + (f"?period={run.period.label}" if run else ""),
        "type_labels": _type_labels(),
    })


@require_GET
@login_required
@page_errors
def map_scores(request: HttpRequest) -> JsonResponse:
    _require(may_view(request.user))
    run = _run_for(request)
    if run is None:
        return JsonResponse({"period": None, "scores": {}})
    return JsonResponse({"period": run.period.label,
                         "scores": selectors.map_scores(scope_for(request.user), run)})


def _radar_svg(dims: list[tuple[str, float | None, float | None]], size: int = 260) -> str:
    """A four-axis radar as inline SVG: the compound (filled) against its type's median."""
    c = size / 2
    r = size / 2 - 48
    n = len(dims)

    def pt(i: int, v: float) -> tuple[float, float]:
        ang = -math.pi / 2 + 2 * math.pi * i / n
        return c + r * v * math.cos(ang), c + r * v * math.sin(ang)

    def poly(vals: list[float | None]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in
                        (pt(i, max(0.0, min(1.0, (v or 0) / 25))) for i, v in enumerate(vals)))

    parts = [f'<svg viewBox="0 0 {size} {size}" class="radar" role="img" '
             f'aria-label="radar">']
    for ring in (0.25, 0.5, 0.75, 1.0):
        parts.append(f'<polygon points="{poly([ring * 25] * n)}" fill="none" stroke="#d5dae0"/>')
    for i, (label, _v, _m) in enumerate(dims):
        x, y = pt(i, 1.0)
        lx, ly = pt(i, 1.22)
        parts.append(f'<line x1="{c}" y1="{c}" x2="{x:.1f}" y2="{y:.1f}" stroke="#d5dae0"/>')
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11" text-anchor="middle" '
                     f'dominant-baseline="middle">{label}</text>')
    parts.append(f'<polygon points="{poly([m for _l, _v, m in dims])}" fill="none" '
                 f'stroke="#9aa5b1" stroke-dasharray="4 3" stroke-width="1.5"/>')
    parts.append(f'<polygon points="{poly([v for _l, v, _m in dims])}" fill="rgba(47,128,237,.25)" '
                 f'stroke="#2f80ed" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


@require_GET
@login_required
@page_errors
def compound_page(request: HttpRequest, code: str) -> HttpResponse:
    _require(may_view(request.user))
    run = _run_for(request)
    if run is None:
        raise NotFound(_("No index has been computed yet."))
    row = selectors.compound_score(scope_for(request.user), run, code)
    medians = selectors.type_medians(run, row.compound_type)
    dl = dimension_labels()
    dims = [(dl[d], row.dimensions.get(d), medians.get(d)) for d in dl]
    names = selectors.catalogue_names()
    pulls = [{**p, "name": names.get(p["code"], p["code"])}
             for p in (row.explanation or {}).get("pulls", [])]
    why = {p["indicator"]: p["message"] for p in run.problems
           if p.get("indicator") and p["kind"] != "leaf_partly_missing"}
    why.update(selectors.missing_reasons(run, row.compound_id))
    leaves = [{"code": k, "name": names.get(k, k), "x": row.x.get(k), "z": row.z.get(k),
               "why": why.get(k, "")} for k in names]
    history = selectors.trend(row)
    chart = {"title": _("Total over periods"), "series": _("Total (0–100)"),
             "labels": [h["period"] for h in history],
             "values": [None if h["total"] is None else round(h["total"], 2) for h in history]}
    return render(request, "index/compound.html", {
        "run": run, "row": row, "radar": _radar_svg(dims), "dims": dims, "pulls": pulls,
        "leaves": leaves, "history": history, "chart": chart,
        "type_label": _type_labels().get(row.compound_type, row.compound_type),
    })


def _heat(v: float | None) -> str:
    if v is None:
        return "#f5f7fa"
    a = min(1.0, abs(v))
    return f"rgba(47,128,237,{a:.2f})" if v >= 0 else f"rgba(214,69,69,{a:.2f})"


@require_GET
@login_required
@page_errors
def diagnostics_page(request: HttpRequest) -> HttpResponse:
    _require(may_compute(request.user))
    run = _run_for(request)
    if run is None:
        raise NotFound(_("No index has been computed yet."))
    diag = selectors.diagnostics(run)
    ctype = request.GET.get("type") or ""
    corr = (diag.correlations if diag else {}) or {}
    if ctype not in corr:
        ctype = next(iter(sorted(corr)), "")
    heat: list[dict[str, Any]] = []
    codes: list[str] = []
    if ctype:
        codes = corr[ctype]["codes"]
        for a, row in zip(codes, corr[ctype]["matrix"], strict=True):
            heat.append({"code": a, "cells": [{"v": v, "text": _fmt(v), "bg": _heat(v)}
                                              for v in row]})
    mc = list(CompoundScore.objects.filter(run=run, period_label=run.period.label,
                                           compound_type=ctype or None, rank__isnull=False)
              .select_related("compound").order_by("rank")[:200])
    tl = _type_labels()
    names = selectors.catalogue_names()
    dl = dimension_labels()
    alpha = (diag.alpha.get(ctype) if diag and ctype else None) or {}
    th = (diag.thresholds.get(ctype) if diag and ctype else None) or {}
    return render(request, "index/diagnostics.html", {
        "run": run, "diag": diag, "ctype": ctype, "codes": codes, "heat": heat, "mc": mc,
        "types": [(t, tl.get(t, t)) for t in sorted(corr)],
        "corr": corr.get(ctype) if ctype else None,
        "alpha": [(dl.get(d, d), v) for d, v in alpha.items()],
        "threshold_rows": [(names.get(k, k), k, th.get("x_min", {}).get(k),
                            th.get("x_max", {}).get(k)) for k in names],
        "sample": th, "flagged": [
            {"a": names.get(f[0], f[0]), "b": names.get(f[1], f[1]), "r": f[2], "kind": f[3]}
            for f in ((corr.get(ctype) or {}).get("flagged") or [])],
        "coverage": [(names.get(k, k), v["with_value"], v["without"])
                     for k, v in ((diag.leaf_coverage if diag else {}) or {}).items()],
    })


def ranking_rows(scope: Any, run: IndexRun) -> tuple[list[str], list[list[Any]]]:
    dl = dimension_labels()
    header = [_("Compound code"), _("Compound"), _("Neighbourhood"), _("Type"), _("Status"),
              _("Rank in type"), _("Of"), _("Total (0–100)"), *dl.values(), _("Coverage"),
              _("Rank interval (5%)"), _("Rank interval (95%)")]
    tl = _type_labels()
    rows = []
    for s in (selectors.scores(scope, run, sort="rank")
              .order_by("compound_type", F("rank").asc(nulls_last=True), "compound__code")
              .defer(*HEAVY)):
        rows.append([s.compound.code, s.compound.name, s.compound.neighbourhood.name,
                     tl.get(s.compound_type, s.compound_type), s.status, s.rank, s.of,
                     s.total, *(s.dimensions.get(d) for d in dl), s.coverage,
                     s.rank_low, s.rank_high])
    return header, rows


@require_GET
@login_required
@page_errors
def export(request: HttpRequest) -> HttpResponse:
    _require(may_view(request.user))
    run = _run_for(request)
    if run is None:
        raise NotFound(_("No index has been computed yet."))
    from openpyxl import Workbook

    header, rows = ranking_rows(scope_for(request.user), run)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Rankings")[:31])
    ws.freeze_panes = "A2"
    # Every cell through core.exports: compound names are set by staff and must stay text.
    exports.append_row(ws, header)
    for r in rows:
        exports.append_row(ws, r)
    info = wb.create_sheet(_("About")[:31])
    exports.append_row(info, [_("Period"), run.period.label])
    exports.append_row(info, [_("Run"), run.pk])
    exports.append_row(info, [_("Computed at"),
                              run.finished_at.isoformat() if run.finished_at else ""])
    for p in run.problems:
        if p["kind"] != "unscored":
            exports.append_row(info, [_("Problem"), p["message"]])
    buf = _io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="index-{run.period.label}.xlsx"'
    return resp


@require_GET
@login_required
@page_errors
def report(request: HttpRequest) -> HttpResponse:
    _require(may_view(request.user))
    run = _run_for(request)
    if run is None:
        raise NotFound(_("No index has been computed yet."))
    scope = scope_for(request.user)
    groups = []
    tl = _type_labels()
    for t in COMPOUND_TYPES:
        rows = list(selectors.scores(scope, run, compound_type=t).defer(*HEAVY))
        if rows:
            scored = [r.total for r in rows if r.total is not None]
            groups.append({"type": t, "label": tl[t], "rows": rows,
                           "mean": sum(scored) / len(scored) if scored else None})
    return render(request, "index/report.html", {
        "run": run, "groups": groups, "dims": dimension_labels(),
        "area": _area_label(request.user),
        "problems": [p for p in run.problems if p["kind"] != "unscored"],
    })
