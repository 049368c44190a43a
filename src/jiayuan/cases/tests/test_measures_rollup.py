# ruff: noqa: F811  (the shared fixture is imported, then asked for by name)
"""The measures' monthly roll-up gives the same figures as the direct queries over the cases:
after a rebuild, after cases move on and a refresh, at any ``now``, for partial months and
for a neighbourhood's staff; medians exact to the microsecond; ``first_response_at``."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.management import call_command

from jiayuan.accounts.scope import AreaScope, scope_for
from jiayuan.cases.measures import rollup
from jiayuan.cases.measures.formulas import MeasureConfig, median
from jiayuan.cases.measures.queries import GROUPINGS, all_measures, measures, rollup_as_of
from jiayuan.cases.models import Case, CaseMonthRollup
from jiayuan.cases.tests.test_measures import (  # noqa: F401  (fixtures)
    MARCH,
    NOW,
    SH,
    SPRING,
    D,
    H,
    R,
    _case,
    fixture_cases,
)

YEAR = (dt.date(2026, 1, 1), dt.date(2027, 1, 1))


def _assert_same(rollup_rows, direct_rows):
    """Equal rows: every count and label exactly, the median to floating rounding."""
    assert [(r.key, r.period) for r in rollup_rows] == [(r.key, r.period) for r in direct_rows]
    for a, b in zip(rollup_rows, direct_rows, strict=True):
        assert a.label == b.label
        ca, cb = a.counts, b.counts
        for name in ca.__dataclass_fields__:
            if name != "median_hours_to_close":
                assert getattr(ca, name) == getattr(cb, name), (a.key, a.period, name)
        if cb.median_hours_to_close is None:
            assert ca.median_hours_to_close is None
        else:
            assert ca.median_hours_to_close == pytest.approx(cb.median_hours_to_close,
                                                             rel=1e-12, abs=1e-9)


def _compare(scope, start, end, now, periods=("month", "quarter", "year"), config=None):
    assert rollup_as_of(scope, start, end, config) is not None  # the roll-up is what is read
    for period in periods:
        for grouping in GROUPINGS:
            kw = dict(grouping=grouping, period=period, start=start, end=end, now=now,
                      config=config)
            _assert_same(measures(scope, **kw), measures(scope, source="direct", **kw))
    together = all_measures(scope, period="month", start=start, end=end, now=now,
                            config=config)
    alone = all_measures(scope, period="month", start=start, end=end, now=now, config=config,
                         source="direct")
    for grouping in GROUPINGS:
        _assert_same(together[grouping], alone[grouping])


def test_without_a_rollup_the_measures_read_the_cases(fixture_cases):
    assert rollup_as_of(AreaScope.all(), *YEAR) is None


@pytest.mark.parametrize("now", [
    NOW,
    R + 12 * H,                                        # some not yet due to respond or close
    R + 30 * H,                                        # case 4 responded late
    dt.datetime(2026, 3, 31, 23, 50, tzinfo=SH),       # case 11 reported 20 minutes before
    dt.datetime(2026, 5, 2, tzinfo=SH),                # cases 11 and 12 past their deadline
])
def test_rollup_equals_the_direct_queries_at_any_moment(fixture_cases, now):
    result = rollup.rebuild()
    assert result.cells == CaseMonthRollup.objects.count() > 0
    _compare(AreaScope.all(), *YEAR, now)
    _compare(AreaScope.all(), *SPRING, now)


def test_hand_computed_march_figures_come_out_of_the_rollup(fixture_cases):
    rollup.rebuild()
    assert rollup_as_of(AreaScope.all(), *MARCH) is not None
    row = measures(AreaScope.all(), grouping="total", period="month", start=MARCH[0],
                   end=MARCH[1], now=NOW)[0]
    c = row.counts
    assert (c.reported, c.due_response, c.responded) == (10, 10, 7)
    assert (c.due_closure, c.closed, c.closed_on_time, c.resolved) == (8, 6, 4, 5)
    assert (c.reworked, c.extended, c.rejected) == (2, 1, 1)
    assert row.rates.median_hours_to_close == pytest.approx(72.0)


def test_partial_months_at_either_end_are_read_from_the_cases(fixture_cases):
    rollup.rebuild()
    start, end = dt.date(2026, 2, 20), dt.date(2026, 4, 1)
    _compare(AreaScope.all(), start, end, NOW)
    # 10 March .. 5 April: no whole month, so the cases only.
    assert rollup_as_of(AreaScope.all(), dt.date(2026, 3, 10), dt.date(2026, 4, 5)) is None
    _compare_partial = measures(AreaScope.all(), grouping="unit", period="month",
                                start=dt.date(2026, 3, 15), end=dt.date(2026, 5, 10), now=NOW)
    _assert_same(_compare_partial, measures(
        AreaScope.all(), grouping="unit", period="month", start=dt.date(2026, 3, 15),
        end=dt.date(2026, 5, 10), now=NOW, source="direct"))


def test_staff_scope_reads_the_rollup_of_their_area_only(fixture_cases, make_user):
    rollup.rebuild()
    staff = make_user("s2staff", "neighbourhood_staff", fixture_cases.neighbourhoods["S2N1"])
    scope = scope_for(staff)
    _compare(scope, *YEAR, NOW)
    total = measures(scope, grouping="total", period="year", start=YEAR[0], end=YEAR[1],
                     now=NOW)
    assert [r.counts.reported for r in total] == [1]
    # A compound's grant is finer than the roll-up's areas: the cases are read instead.
    compound = AreaScope.of(fixture_cases.compounds["S1N1C1"].path)
    assert rollup_as_of(compound, *YEAR) is None


def test_another_response_limit_reads_the_cases(fixture_cases):
    rollup.rebuild()
    cfg = MeasureConfig(response_limit_hours=2)
    assert rollup_as_of(AreaScope.all(), *YEAR, cfg) is None
    row = measures(AreaScope.all(), grouping="total", period="month", start=MARCH[0],
                   end=MARCH[1], now=NOW, config=cfg)[0]
    assert row.counts.responded == 5
    # Rebuilt with that limit, the roll-up serves it and agrees.
    rollup.rebuild(cfg)
    _compare(AreaScope.all(), *YEAR, NOW, periods=("month",), config=cfg)


def test_refresh_follows_cases_that_change_state_and_only_recomputes_their_slices(
        fixture_cases, make_user):
    from jiayuan.cases.services import act, open_case

    tiny = fixture_cases
    rollup.rebuild()
    # Pretend every case was last changed long ago, so a refresh finds only today's changes.
    Case.objects.update(updated_at=dt.datetime(2026, 1, 1, tzinfo=SH))
    st = rollup.state()
    assert st is not None
    duty = make_user("duty", "duty_officer", tiny.subdistricts["S1"])
    duty2 = make_user("duty2", "duty_officer", tiny.subdistricts["S2"])
    police = make_user("police", "department_staff", tiny.subdistricts["S1"],
                       department=tiny.departments["S1"])
    t0 = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    new, _ = open_case(channel="home_code", description="楼道堆物",
                       entrance=tiny.entrances["S1N1C1"], reported_at=t0)
    steps = [(duty, "accept", {}), (duty, "dispatch", {"lead_unit": "department:PS1"}),
             (police, "handle", {"reason": "已清理"}), (duty, "verify_ok", {}),
             (duty, "close", {})]
    for i, (user, kind, extra) in enumerate(steps, start=1):
        new = act(case=new, user=user, kind=kind, now=t0 + i * H, **extra)
    # A closed, rated case reopened (rework; its rating and lead unit cleared) ...
    first = Case.objects.get(number="T0001")
    act(case=first, user=duty, kind="reopen", reason="又堆了", now=R + 20 * D)
    # ... and the waiting case in the other subdistrict rejected.
    other, _ = open_case(channel="home_code", description="噪音",
                         entrance=tiny.entrances["S2N1C1"], reported_at=t0)
    act(case=other, user=duty2, kind="reject", reason="非本平台受理范围", now=t0 + H)
    # Not refreshed yet: the roll-up still shows the cases as they were.
    stale = measures(AreaScope.all(), grouping="total", period="month", start=MARCH[0],
                     end=MARCH[1], now=NOW)[0]
    assert stale.counts.reported == 10
    result = rollup.refresh()
    assert result.slices == 2  # March × S1N1 and March × S2N1, nothing else
    _compare(AreaScope.all(), *YEAR, NOW)
    _compare(AreaScope.all(), *YEAR, dt.datetime(2026, 6, 1, tzinfo=SH))
    fresh = measures(AreaScope.all(), grouping="total", period="month", start=MARCH[0],
                     end=MARCH[1], now=NOW)[0]
    assert fresh.counts.reported == 12
    assert fresh.counts.rejected == 2
    after = rollup.state()
    assert after is not None and after.as_of > st.as_of
    # A second refresh with nothing new changes nothing.
    again = rollup.refresh()
    assert again.slices == 2  # the overlap looks again at the same cases: harmless
    _compare(AreaScope.all(), *YEAR, NOW, periods=("month",))


def test_median_from_the_rollup_is_exact_to_the_microsecond(tiny):
    us = dt.timedelta(microseconds=1)
    closing = [H + 7 * us, 3 * H + 1 * us, 2 * H + 500_001 * us, 5 * H]   # an even count
    for n, took in enumerate(closing, start=1):
        _case(tiny, n, state="closed", lead="department:PS1", accepted=R + H,
              dispatched=R + H, handled=R + took, closed=R + took)
    rollup.rebuild()
    row = measures(AreaScope.all(), grouping="unit", period="month", start=MARCH[0],
                   end=MARCH[1], now=NOW)[0]
    expected = median([t / dt.timedelta(hours=1) for t in closing])
    assert expected == pytest.approx((2 * 3600 + 0.500001 + 3 * 3600 + 0.000001) / 2 / 3600)
    assert row.counts.median_hours_to_close == pytest.approx(expected, rel=0, abs=1e-12)


def test_first_response_at_is_written_once_by_the_services(tiny, make_user):
    from jiayuan.cases.services import act, open_case

    duty = make_user("duty", "duty_officer", tiny.subdistricts["S1"])
    t0 = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    case, _ = open_case(channel="home_code", description="路灯不亮",
                        entrance=tiny.entrances["S1N1C1"], reported_at=t0)
    assert case.first_response_at is None
    case = act(case=case, user=duty, kind="accept", now=t0 + 2 * H)
    assert case.first_response_at == t0 + 2 * H
    police = make_user("police", "department_staff", tiny.subdistricts["S1"],
                       department=tiny.departments["S1"])
    steps = [(duty, "dispatch", {"lead_unit": "department:PS1"}),
             (police, "handle", {"reason": "已修复"}), (duty, "verify_ok", {}),
             (duty, "close", {}), (duty, "reopen", {"reason": "又坏了"})]
    for i, (user, kind, extra) in enumerate(steps, start=3):
        case = act(case=case, user=user, kind=kind, now=t0 + i * H, **extra)
    case.refresh_from_db()
    assert case.state == "accepted" and case.accepted_at == t0 + 7 * H
    assert case.first_response_at == t0 + 2 * H   # the reopen does not move it
    rejected, _ = open_case(channel="home_code", description="重复",
                            entrance=tiny.entrances["S1N1C1"], reported_at=t0)
    rejected = act(case=rejected, user=duty, kind="reject", reason="不属实", now=t0 + 3 * H)
    assert rejected.first_response_at == t0 + 3 * H


def test_migration_backfills_first_response_from_the_history(fixture_cases):
    from django.apps import apps

    migration = importlib.import_module("jiayuan.cases.migrations.0005_measures_rollup")
    Case.objects.update(first_response_at=None)
    migration.backfill_first_response(apps, None)
    got = dict(Case.objects.values_list("number", "first_response_at"))
    assert got["T0001"] == R + H                      # plain: accepted_at
    assert got["T0009"] == R + 4 * H                  # reopened: the first accept event
    assert got["T0006"] == R + 2 * H                  # rejected: the reject event
    assert got["T0008"] is None                       # never responded
    # And the measures read the column alike.
    rollup.rebuild()
    _compare(AreaScope.all(), *YEAR, NOW, periods=("month",))


def test_rebuild_command_and_periodic_jobs(fixture_cases):
    from jiayuan.core.periodic import registered

    call_command("cases_measures", "rebuild")
    assert rollup.state() is not None
    call_command("cases_measures", "refresh")
    names = {job.name for job in registered()}
    assert {"cases.measures_refresh", "cases.measures_rebuild"} <= names


# ---------------------------------------------------------------- the page says how fresh

@pytest.fixture
def _pages_urls(settings):
    settings.ROOT_URLCONF = "jiayuan.cases.tests.test_measures"


def test_page_and_workbook_show_the_rollups_as_of_time(fixture_cases, make_user, login,
                                                       _pages_urls):
    import io

    from openpyxl import load_workbook

    client = login(make_user("analyst", "district_analyst"))
    body = client.get("/cases/measures/?year=2026&grouping=unit").content.decode()
    assert 'data-testid="measures-as-of"' in body and "Figures as of" not in body
    rollup.rebuild()
    st = rollup.state()
    assert st is not None
    shown = st.as_of.astimezone(SH).strftime("%Y-%m-%d %H:%M")
    body = client.get("/cases/measures/?year=2026&grouping=unit").content.decode()
    assert shown in body
    wb = load_workbook(io.BytesIO(client.get(
        "/cases/measures/export.xlsx?year=2026&period=month").content))
    defs = {row[0]: row[1] for row in wb["指标定义"].iter_rows(min_row=2, values_only=True)
            if row[0]}
    assert defs["数据截至"].startswith(shown)
