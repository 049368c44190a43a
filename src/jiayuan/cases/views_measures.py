"""The case-loop measures page and its Excel download. Thin: parse the filters, call
``cases.measures.queries`` with the viewer's area scope, render.

Who may look: duty officers and neighbourhood staff (their granted area), district analysts
and administrators (the whole district). Everyone else gets the 403 page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from jiayuan.accounts.scope import scope_for
from jiayuan.cases.measures.export import COUNT_COLUMNS, build_workbook, workbook_bytes
from jiayuan.cases.measures.formulas import MEASURES, MeasureConfig, config_from_mapping
from jiayuan.cases.measures.queries import (
    GROUPINGS,
    PERIODS,
    SH,
    MeasureRow,
    all_measures,
    measures,
    rollup_as_of,
)
from jiayuan.core.errors import Forbidden
from jiayuan.web.errors import page_errors

MEASURE_ROLES = frozenset({"duty_officer", "neighbourhood_staff", "district_analyst", "admin"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOP_UNITS = 20


def may_view_measures(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)
                and (user.is_superuser or user.role in MEASURE_ROLES))


class MeasureFilter(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    period = forms.ChoiceField(label=_("Period"), choices=list(PERIODS.items()), required=False)
    grouping = forms.ChoiceField(label=_("Grouping"), choices=list(GROUPINGS.items()),
                                 required=False)


def _config() -> MeasureConfig:
    return config_from_mapping(getattr(settings, "JIAYUAN_CASE_MEASURES", None))


def _filters(request: HttpRequest) -> tuple[MeasureFilter, int, str, str]:
    """The filter form and its values; invalid values fall back to the defaults."""
    now = timezone.now().astimezone(SH)
    form = MeasureFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    return (form, data.get("year") or now.year, data.get("period") or "month",
            data.get("grouping") or "subdistrict")


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _bar(title: str, series: str, rows: list[MeasureRow], attr: str,
         label: str = "period") -> dict[str, Any]:
    return {"title": title, "series": series,
            "labels": [getattr(r, label) for r in rows],
            "values": [_pct(getattr(r.rates, attr)) for r in rows]}


def _area_label(user: Any) -> str:
    scope = scope_for(user)
    if scope.everywhere:
        return "全区"
    return "、".join(user.area_grants.order_by("path").values_list("label", flat=True))


@require_GET
@login_required
@page_errors
def measures_page(request: HttpRequest) -> HttpResponse:
    if not may_view_measures(request.user):
        raise Forbidden("您的角色无权查看工单考核统计")
    form, year, period, grouping = _filters(request)
    scope, cfg, now = scope_for(request.user), _config(), timezone.now()
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    as_of = rollup_as_of(scope, start, end, cfg)
    rows = measures(scope, grouping=grouping, period=period, start=start, end=end, now=now,
                    config=cfg)
    months = measures(scope, grouping="total", period="month", start=start, end=end, now=now,
                      config=cfg)
    units = sorted(measures(scope, grouping="unit", period="year", start=start, end=end,
                            now=now, config=cfg),
                   key=lambda r: -r.counts.reported)[:TOP_UNITS]
    bars = [
        ("chart-satisfaction", _bar("满意率趋势（%）", "满意率", months, "satisfaction_rate")),
        ("chart-response", _bar("响应率趋势（%）", "响应率", months, "response_rate")),
        ("chart-ontime", _bar("按期结案率趋势（%）", "按期结案率", months,
                              "on_time_closure_rate")),
        ("chart-units", _bar("各主办单位按期结案率（%）", "按期结案率", units,
                             "on_time_closure_rate", label="label")),
    ]
    charts = [(chart_id, f"{chart_id}-data", data) for chart_id, data in bars]
    header = [GROUPINGS[grouping], "统计周期", *(m.label for m in MEASURES),
              *(label for _, label in COUNT_COLUMNS[:1])]
    table = [_display(r) for r in rows]
    return render(request, "cases/measures.html", {
        "form": form, "year": year, "period": period, "grouping": grouping,
        "header": header, "table": table, "charts": charts, "measures": MEASURES,
        "area": _area_label(request.user), "weights": cfg.weights,
        "response_limit": cfg.response_limit_hours,
        "export_query": f"year={year}&period={period}",
        "as_of": as_of.astimezone(SH) if as_of else None,
    })


def _display(row: MeasureRow) -> list[str]:
    """The row as table cells: rates in per cent, empty denominators as a dash."""
    out: list[str] = [row.label, row.period]
    for m in MEASURES:
        v = getattr(row.rates, m.key)
        out.append("—" if v is None else (f"{v * 100:.1f}%" if m.percent else f"{v:.1f}"))
    out.append(str(row.counts.reported))
    return out


@require_GET
@login_required
@page_errors
def measures_export(request: HttpRequest) -> HttpResponse:
    if not may_view_measures(request.user):
        raise Forbidden("您的角色无权导出工单考核统计")
    _form, year, period, _grouping = _filters(request)
    scope, cfg, now = scope_for(request.user), _config(), timezone.now()
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    as_of = rollup_as_of(scope, start, end, cfg)
    results = all_measures(scope, period=period, start=start, end=end, now=now, config=cfg)
    wb = build_workbook(results, period=period, start=start, end=end, now=now, config=cfg,
                        area=_area_label(request.user), as_of=as_of)
    response = HttpResponse(workbook_bytes(wb), content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="case-measures-{year}-{period}.xlsx"')
    return response

