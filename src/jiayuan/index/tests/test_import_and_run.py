"""VALUES import (refusal stores nothing) and a whole run on the tiny district."""

from __future__ import annotations

import pytest

from jiayuan.accounts.scope import AreaScope
from jiayuan.core.errors import ImportRejected
from jiayuan.index.engine import default_catalogue
from jiayuan.index.models import CompoundScore, IndexRun, LeafValue, RunDiagnostics
from jiayuan.index.services.imports import import_values
from jiayuan.index.services.periods import get_or_create_period, parse_label, previous_label
from jiayuan.index.services.runs import run_index

from .factories import at, case

HEADER = "compound_code,compound_type,period,indicator_code,value\n"


def _csv(tmp_path, body: str, name: str = "values.csv"):
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def test_period_labels():
    assert parse_label("2026")[1:] == (parse_label("2026Q1")[1], parse_label("2027")[1])
    assert previous_label("2026Q1") == "2025Q4" and previous_label("2026") == "2025"
    with pytest.raises(Exception, match="无法识别"):
        parse_label("26年")


def test_bad_sheet_refused_with_every_problem_nothing_stored(tiny, tmp_path):
    c1, c2 = tiny.compounds["S1N1C1"].code, tiny.compounds["S1N1C2"].code
    body = (f"{c1},commodity,2025,waste_sorting_performance,88\n"          # fine
            f"{c1},commodity,2025,no_such_leaf,1\n"                         # unknown indicator
            f"{c1},commodity,2025,safe_compound,yes\n"                      # non-numeric
            f"999999,commodity,2025,safe_compound,1\n"                      # not in registry
            f"{c1},commodity,2025,waste_sorting_performance,90\n"           # duplicate
            f"{c2},commodity,2025,safe_compound,1\n"                        # wrong type
            f"{c1},commodity,2024,safe_compound,1\n")                       # other period
    period = get_or_create_period("2025")
    with pytest.raises(ImportRejected) as exc:
        import_values(_csv(tmp_path, body), scope=AreaScope.all(), period=period)
    msgs = [p["message"] for p in exc.value.problems]
    rows = sorted({p["row"] for p in exc.value.problems})
    assert rows == [3, 4, 5, 6, 7, 8], msgs
    assert any("未知指标" in m for m in msgs)
    assert any("999999" in m for m in msgs)
    assert any("类型" in m for m in msgs)
    assert LeafValue.objects.count() == 0


def test_import_out_of_scope_refused(tiny, tmp_path):
    other = tiny.compounds["S2N1C1"]
    body = f"{other.code},commodity,2025,safe_compound,1\n"
    with pytest.raises(ImportRejected, match="问题") as refused:
        import_values(_csv(tmp_path, body), scope=AreaScope.of(tiny.neighbourhoods["S1N1"].path),
                      period=get_or_create_period("2025"))
    assert LeafValue.objects.count() == 0
    # it reads as an unknown compound: the file learns nothing about another area
    assert [p["message"] for p in refused.value.problems] == [
        f"values.csv 第 2 行：登记册中没有小区 {other.code!r}"]


def test_good_sheet_stored_and_reimport_replaces(tiny, tmp_path):
    c1 = tiny.compounds["S1N1C1"].code
    period = get_or_create_period("2025")
    got = import_values(_csv(tmp_path, f"{c1},commodity,2025,safe_compound,1\n"),
                        scope=AreaScope.all(), period=period)
    assert got["rows"] == 1
    import_values(_csv(tmp_path, f"{c1},commodity,2025,safe_compound,0\n"),
                  scope=AreaScope.all(), period=period)
    assert list(LeafValue.objects.values_list("value", "source")) == [(0.0, "import")]


def _spreadsheet_values(tiny, labels):
    """Every spreadsheet leaf for every tiny compound and period, varied by compound."""
    cat = default_catalogue()
    lines = []
    for k, (key, comp) in enumerate(sorted(tiny.compounds.items())):
        for t, label in enumerate(labels):
            for j, ind in enumerate(cat.indicators):
                if ind.source == "spreadsheet" and not ind.growth_of:
                    lines.append(f"{comp.code},{comp.compound_type},{label},{ind.code},"
                                 f"{(k * 7 + j * 3 + t * 5) % 11 + 1}\n")
    return "".join(lines)


def test_run_end_to_end_on_tiny(tiny, tmp_path):
    a = tiny.compounds["S1N1C1"]
    for y in (2024, 2025, 2026):
        for k, comp in enumerate(tiny.compounds.values()):
            for _ in range((k + y) % 3):
                case(comp, reported=at(y, 3, 1), closed=at(y, 3, 2), due=at(y, 3, 5),
                     state="closed")
    import_values(_csv(tmp_path, _spreadsheet_values(tiny, ["2024", "2025", "2026"])),
                  scope=AreaScope.all())
    period = get_or_create_period("2026")
    run = run_index(period, parameters={"mc_draws": 50})
    assert run.status == IndexRun.Status.DONE, run.error
    assert run.progress == 100 and run.periods == ["2024", "2025", "2026"]
    kinds = {p["kind"] for p in run.problems}
    assert "no_data_source" in kinds  # volunteer and party leaves: no module yet
    missing = {p["indicator"] for p in run.problems if p["kind"] == "no_data_source"}
    assert "volunteer_activity" in missing
    assert "three_meetings_held" not in missing  # the council app is its source (none held: 0)
    scores = CompoundScore.objects.filter(run=run, period_label="2026")
    assert scores.count() == 8
    s = scores.get(compound=a)
    assert s.status == "scored" and 0 <= s.total <= 100
    assert s.total == pytest.approx(sum(s.dimensions.values()))
    assert s.rank is not None and 1 <= s.rank <= s.of == 4  # 4 commodity compounds
    assert s.rank_low is not None and s.rank_low <= s.rank_high
    assert s.z["hotline_12345_complaints"] is not None
    assert s.z["volunteer_activity"] is None
    # the trend: the same run holds the earlier periods
    assert CompoundScore.objects.filter(run=run, compound=a).count() == 3
    # self-growth against the compound's own previous period: none in the first period
    first = CompoundScore.objects.get(run=run, compound=a, period_label="2024")
    assert first.x == {}  # leaves kept for the run's period only
    assert result_growth_missing_in_first_period(run, a)
    mp = {q.period_label: q.dimensions["management_precision"]
          for q in CompoundScore.objects.filter(run=run, compound=a)}
    assert s.x["management_precision_change"] is not None
    # management precision holds no growth leaf: its change is this period's points minus
    # the previous period's, on the run's goalposts
    assert s.x["management_precision_change"] == pytest.approx(mp["2026"] - mp["2025"])
    diag = RunDiagnostics.objects.get(run=run)
    assert set(diag.alpha) == {"commodity", "old_public"}
    assert diag.thresholds["commodity"]["population"] == 4
    assert diag.leaf_coverage["volunteer_activity"]["with_value"] == 0
    assert diag.leaf_coverage["three_meetings_held"]["with_value"] > 0


def test_run_refuses_bad_parameters(tiny):
    from jiayuan.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        run_index(get_or_create_period("2026"), parameters={"normalisation": "magic"})


def result_growth_missing_in_first_period(run, compound) -> bool:
    """The first period has no earlier one: its self-growth leaves are missing (coverage
    below 1), never zero."""
    first = CompoundScore.objects.get(run=run, compound=compound, period_label="2024")
    last = CompoundScore.objects.get(run=run, compound=compound, period_label="2026")
    return first.coverage < last.coverage
