"""The measures as an Excel workbook: one sheet per grouping, Chinese headers, and a sheet
that writes out each formula and its source (drawn from ``formulas.MEASURES``). Every cell
goes through ``core.exports`` (unit and category names are set by staff: formula-like text is
neutralised)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from jiayuan.cases.measures.formulas import MEASURES, MeasureConfig
from jiayuan.cases.measures.queries import GROUPINGS, PERIODS, SH, MeasureRow
from jiayuan.core import exports

# Counts shown beside the rates: (Counts field, Chinese header).
COUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("reported", "上报数"), ("due_response", "应响应数"), ("responded", "按时响应数"),
    ("rejected", "不予受理数"), ("dispatched", "应处置数"), ("handled", "处置数"),
    ("handled_on_time", "按期处置数"), ("due_closure", "应结案数"), ("closed", "结案数"),
    ("closed_on_time", "按期结案数"), ("resolved", "解决数"), ("reworked", "返工数"),
    ("extended", "延期数"), ("rated", "有效评价数"), ("satisfied", "满意数"),
    ("basically_satisfied", "基本满意数"), ("dissatisfied", "不满意数"),
)
BOLD = Font(bold=True)


def headers(grouping: str) -> list[str]:
    return [GROUPINGS[grouping], "统计周期", *(m.label for m in MEASURES),
            *(label for _, label in COUNT_COLUMNS)]


def row_values(row: MeasureRow) -> list[object]:
    """One table row: label, period, the rates (fractions; None stays empty), the counts."""
    rates = [getattr(row.rates, m.key) for m in MEASURES]
    counts = [getattr(row.counts, name) for name, _ in COUNT_COLUMNS]
    return [row.label, row.period, *rates, *counts]


def build_workbook(results: Mapping[str, Sequence[MeasureRow]], *, period: str,
                   start: dt.date, end: dt.date, now: dt.datetime,
                   config: MeasureConfig | None = None, area: str = "",
                   as_of: dt.datetime | None = None) -> Workbook:
    """A workbook with a sheet per grouping in ``results`` and a definitions sheet;
    ``as_of`` is when the roll-up read was last refreshed (None: read from the cases)."""
    cfg = config or MeasureConfig()
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for grouping, rows in results.items():
        ws = wb.create_sheet(f"按{GROUPINGS[grouping]}" if grouping != "total" else "全部")
        exports.append_row(ws, headers(grouping))
        for cell in ws[1]:
            cell.font = BOLD
        for row in rows:
            exports.append_row(ws, row_values(row))
        for i, m in enumerate(MEASURES, start=3):
            fmt = "0.0%" if m.percent else "0.0"
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
        ws.freeze_panes = "C2"
        ws.column_dimensions["A"].width = 28
        for col in range(2, len(headers(grouping)) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 12
    ws = wb.create_sheet("指标定义")
    exports.append_row(ws, ["指标", "公式", "口径依据", "来源"])
    for cell in ws[1]:
        cell.font = BOLD
    for m in MEASURES:
        exports.append_row(ws, [m.label, m.formula, m.firmness, m.source])
    w = cfg.weights
    ws.append([])
    for label, value in (
        ("统计范围", area or "全区"),
        ("统计区间", f"{start.isoformat()} 至 {(end - dt.timedelta(days=1)).isoformat()}（按上报时间，北京时间）"),
        ("统计周期", PERIODS[period]),
        ("数据时点", now.astimezone(SH).strftime("%Y-%m-%d %H:%M")),
        ("数据截至", as_of.astimezone(SH).strftime("%Y-%m-%d %H:%M") + "（月度汇总，每分钟刷新）"
         if as_of else "实时（直接统计工单）"),
        ("响应时限（小时）", cfg.response_limit_hours),
        ("基本满意折算系数", cfg.basically_satisfied_weight),
        ("三率综合权重（响应/解决/满意）", f"{w.response:g} / {w.resolution:g} / {w.satisfaction:g}"),
        ("说明", "分母为 0 的比率留空（不是 0）；已并单的重复件不计入。"),
    ):
        exports.append_row(ws, [label, value])
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 70
    ws.column_dimensions["C"].width = 24
    ws.column_dimensions["D"].width = 60
    return wb


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
