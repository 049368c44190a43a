"""The case-loop measures: formulas, grouping, periods in Asia/Shanghai, scope, export, pages.

The fixture is a dozen cases with known timestamps (hand-computed expectations below); one
more case goes through ``open_case``/``act`` to show the services' rows are counted alike.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import include, path
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.accounts.scope import AreaScope, scope_for
from jiayuan.cases.measures.export import build_workbook, workbook_bytes
from jiayuan.cases.measures.formulas import (
    Counts,
    MeasureConfig,
    Weights,
    composite,
    config_from_mapping,
    median,
    rates,
    satisfaction_rate,
)
from jiayuan.cases.measures.queries import all_measures, measures
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.config import urls as _site_urls
from jiayuan.core.errors import ValidationFailed

# This module doubles as the URLconf of its page tests: the site's URLs plus the measures
# (until the site includes them itself).
urlpatterns = list(_site_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "case_measures" for p in urlpatterns):
    urlpatterns.insert(0, path("", include("jiayuan.cases.urls_measures")))
PAGES = pytest.mark.urls(__name__)

SH = ZoneInfo("Asia/Shanghai")
R = dt.datetime(2026, 3, 10, 9, 0, tzinfo=SH)        # reported (most fixture cases)
NOW = dt.datetime(2026, 4, 15, 10, 0, tzinfo=SH)     # as seen at
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 4, 1))
SPRING = (dt.date(2026, 3, 1), dt.date(2026, 5, 1))
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


# ---------------------------------------------------------------- formulas (pure)

def test_satisfaction_counts_basically_satisfied_at_nine_tenths():
    assert satisfaction_rate(3, 1, 5) == pytest.approx((3 + 0.9) / 5, abs=1e-12)
    assert satisfaction_rate(0, 4, 4) == pytest.approx(0.9, abs=1e-12)
    assert satisfaction_rate(0, 1, 1, weight=0.5) == 0.5


def test_empty_denominators_give_none_not_zero():
    r = rates(Counts())
    assert r.response_rate is None
    assert r.closure_rate is None
    assert r.satisfaction_rate is None
    assert r.composite is None
    assert r.median_hours_to_close is None


def test_composite_uses_configured_weights_and_needs_all_three_rates():
    assert composite(0.7, 0.625, 0.78) == pytest.approx(0.1 * 0.7 + 0.5 * 0.625 + 0.4 * 0.78)
    w = Weights(response=0.30, resolution=0.35, satisfaction=0.35)
    assert composite(1.0, 0.0, 0.0, w) == pytest.approx(0.30)
    assert composite(None, 1.0, 1.0) is None


def test_weights_that_do_not_sum_to_one_are_refused():
    with pytest.raises(ValidationFailed):
        Weights(response=0.5, resolution=0.5, satisfaction=0.5)
    with pytest.raises(ValidationFailed):
        Weights(response=-0.1, resolution=0.6, satisfaction=0.5)


def test_config_from_settings_mapping_keeps_defaults_and_refuses_unknown_keys():
    cfg = config_from_mapping({"response_limit_hours": 2,
                               "weights": {"response": 0.3, "resolution": 0.35,
                                           "satisfaction": 0.35}})
    assert cfg.response_limit_hours == 2.0
    assert cfg.basically_satisfied_weight == 0.9
    assert cfg.weights.resolution == 0.35
    with pytest.raises(ValidationFailed):
        config_from_mapping({"satisfaction_weight": 1})


def test_inconsistent_counts_are_refused():
    with pytest.raises(ValidationFailed):
        Counts(rated=2, satisfied=1)          # the three ratings must add up
    with pytest.raises(ValidationFailed):
        Counts(due_closure=1, closed=2)       # closed is part of the cases due
    with pytest.raises(ValidationFailed):
        Counts(reported=-1)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1))
def test_median_lies_between_min_and_max_and_splits_the_values(values):
    m = median(values)
    assert m is not None
    assert min(values) <= m <= max(values)
    assert sum(v < m for v in values) <= len(values) / 2
    assert sum(v > m for v in values) <= len(values) / 2


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_satisfaction_rate_lies_between_strict_and_lenient_readings(s, b, d):
    n = s + b + d
    r = satisfaction_rate(s, b, n)
    if n == 0:
        assert r is None
    else:
        assert s / n - 1e-12 <= r <= (s + b) / n + 1e-12


# ---------------------------------------------------------------- the fixture

def _case(tiny, n, key="S1N1C1", *, reported_at=R, due=None, state="closed", lead="",
          accepted=None, dispatched=None, handled=None, closed=None, rating="",
          reopened=0, extended=0, events=()):
    compound = tiny.compounds[key]
    nb = compound.neighbourhood
    case = Case.objects.create(
        number=f"T{n:04d}", channel="hotline_12345", description="测试", state=state,
        compound=compound, neighbourhood=nb, subdistrict=nb.subdistrict, path=compound.path,
        lead_unit=lead, reported_at=reported_at, due_at=due or reported_at + 5 * D,
        accepted_at=accepted, dispatched_at=dispatched, handled_at=handled, closed_at=closed,
        rating=rating, rated_at=closed + H if rating else None,
        reopened_count=reopened, extension_count=extended,
    )
    for seq, (action, at) in enumerate(events, start=1):
        CaseEvent.objects.create(case=case, seq=seq, at=at, actor_role="duty_officer",
                                 action=action, to_state="accepted")
    return case


@pytest.fixture
def fixture_cases(tiny):
    ps1, ps2 = "department:PS1", "department:PS2"
    station = f"station:JS{tiny.neighbourhoods['S1N1'].code}"
    _case(tiny, 1, state="rated", lead=ps1, accepted=R + H, dispatched=R + 2 * H,
          handled=R + 20 * H, closed=R + 24 * H, rating="satisfied")
    _case(tiny, 2, state="rated", lead=ps1, accepted=R + 2 * H, dispatched=R + 3 * H,
          handled=R + 40 * H, closed=R + 48 * H, rating="basically_satisfied")
    _case(tiny, 3, state="rated", lead=ps1, accepted=R + 3 * H, dispatched=R + 4 * H,
          handled=R + 9 * D, closed=R + 10 * D, rating="dissatisfied")
    _case(tiny, 4, state="closed", lead=station, accepted=R + 30 * H, dispatched=R + 31 * H,
          handled=R + 3 * D, closed=R + 4 * D, extended=1)
    # Verification failed once: back with the unit, past its deadline; accepted_at kept.
    _case(tiny, 5, state="dispatched", lead=ps1, accepted=R + H, dispatched=R + 2 * H,
          handled=R + 2 * D, reopened=1, events=[("accept", R + H)])
    # Rejected: no timestamp on the row, the history says within 2 h.
    _case(tiny, 6, state="rejected", events=[("reject", R + 2 * H)])
    _case(tiny, 7, state="merged")
    _case(tiny, 8, state="reported")
    # Reopened after closure: accepted_at was overwritten by the reopen; first accept at 4 h.
    _case(tiny, 9, state="rated", lead=ps1, accepted=R + 6 * D, dispatched=R + 6 * D,
          handled=R + 7 * D, closed=R + 8 * D, rating="satisfied", reopened=1,
          events=[("accept", R + 4 * H), ("reopen", R + 5 * D)])
    _case(tiny, 10, "S2N1C1", state="rated", lead=ps2, accepted=R + H, dispatched=R + 2 * H,
          handled=R + 20 * H, closed=R + 24 * H, rating="satisfied")
    # Either side of midnight at the end of March, Shanghai time (both 31 March in UTC).
    _case(tiny, 11, reported_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=SH), state="reported",
          due=dt.datetime(2026, 5, 1, tzinfo=SH))
    _case(tiny, 12, reported_at=dt.datetime(2026, 4, 1, 0, 10, tzinfo=SH), state="reported",
          due=dt.datetime(2026, 5, 1, tzinfo=SH))
    return tiny


def _only(rows):
    assert len(rows) == 1, rows
    return rows[0]


def test_march_totals_match_the_hand_computed_rates(fixture_cases):
    row = _only(measures(AreaScope.all(), grouping="total", period="month",
                         start=MARCH[0], end=MARCH[1], now=NOW))
    c, r = row.counts, row.rates
    assert row.period == "2026-03"
    # 12 cases, the merged one and the 1 April one left out.
    assert c.reported == 10
    assert (c.due_response, c.responded) == (10, 7)
    assert (c.dispatched, c.handled, c.handled_on_time) == (7, 7, 5)
    assert (c.due_closure, c.closed, c.closed_on_time, c.resolved) == (8, 6, 4, 5)
    assert (c.reworked, c.extended, c.rejected) == (2, 1, 1)
    assert (c.rated, c.satisfied, c.basically_satisfied, c.dissatisfied) == (5, 3, 1, 1)
    assert r.response_rate == pytest.approx(0.7)
    assert r.handling_rate == pytest.approx(1.0)
    assert r.on_time_handling_rate == pytest.approx(5 / 7)
    assert r.closure_rate == pytest.approx(0.75)
    assert r.on_time_closure_rate == pytest.approx(0.5)
    assert r.resolution_rate == pytest.approx(0.625)
    assert r.rework_rate == pytest.approx(0.25)
    assert r.extension_rate == pytest.approx(1 / 7)
    assert r.satisfaction_rate == pytest.approx(0.78)
    assert r.composite == pytest.approx(0.1 * 0.7 + 0.5 * 0.625 + 0.4 * 0.78)
    # Hours to close: 24, 24, 48, 96, 192, 240 → (48 + 96) / 2.
    assert r.median_hours_to_close == pytest.approx(72.0)


def test_month_boundary_follows_shanghai_time_and_an_empty_month_has_no_rates(fixture_cases):
    rows = measures(AreaScope.all(), grouping="total", period="month",
                    start=SPRING[0], end=SPRING[1], now=NOW)
    assert [(row.period, row.counts.reported) for row in rows] == [("2026-03", 10),
                                                                   ("2026-04", 1)]
    april = rows[1]
    assert (april.counts.due_response, april.counts.responded) == (1, 0)
    assert april.rates.response_rate == 0.0
    assert april.rates.closure_rate is None
    assert april.rates.satisfaction_rate is None
    assert april.rates.composite is None
    assert april.rates.median_hours_to_close is None


def test_quarter_and_year_periods_add_up_the_months(fixture_cases):
    q = measures(AreaScope.all(), grouping="total", period="quarter",
                 start=SPRING[0], end=SPRING[1], now=NOW)
    assert [(row.period, row.counts.reported) for row in q] == [("2026-Q1", 10),
                                                                ("2026-Q2", 1)]
    y = _only(measures(AreaScope.all(), grouping="total", period="year",
                       start=SPRING[0], end=SPRING[1], now=NOW))
    assert (y.period, y.counts.reported, y.counts.closed) == ("2026", 11, 6)


def test_a_shorter_response_limit_counts_fewer_responses(fixture_cases):
    cfg = MeasureConfig(response_limit_hours=2)
    row = _only(measures(AreaScope.all(), grouping="total", period="month",
                         start=MARCH[0], end=MARCH[1], now=NOW, config=cfg))
    # Within 2 h: cases 1 (1 h), 2 (2 h), 5 (1 h), 6 (rejected at 2 h), 10 (1 h).
    assert row.counts.responded == 5


def test_grouping_by_neighbourhood_subdistrict_and_unit_splits_the_cases(fixture_cases):
    tiny = fixture_cases
    by_nb = {row.label: row.counts.reported for row in measures(
        AreaScope.all(), grouping="neighbourhood", period="month", start=MARCH[0],
        end=MARCH[1], now=NOW)}
    n1, n2 = tiny.neighbourhoods["S1N1"], tiny.neighbourhoods["S2N1"]
    assert by_nb == {f"第1街道 {n1.name}": 9, f"第2街道 {n2.name}": 1}
    by_sd = {row.label: row.counts.closed for row in measures(
        AreaScope.all(), grouping="subdistrict", period="month", start=MARCH[0],
        end=MARCH[1], now=NOW)}
    assert by_sd == {"第1街道": 5, "第2街道": 1}
    by_unit = {row.label: (row.counts.reported, row.counts.closed) for row in measures(
        AreaScope.all(), grouping="unit", period="month", start=MARCH[0], end=MARCH[1],
        now=NOW)}
    assert by_unit == {"第1派出所": (5, 4), "第2派出所": (1, 1),
                       f"{n1.name}联勤联动站": (1, 1), "未派遣": (3, 0)}


def test_one_fine_pass_summed_per_grouping_equals_a_pass_per_grouping(fixture_cases):
    together = all_measures(AreaScope.all(), period="month", start=SPRING[0], end=SPRING[1],
                            now=NOW)
    for grouping, rows in together.items():
        alone = measures(AreaScope.all(), grouping=grouping, period="month", start=SPRING[0],
                         end=SPRING[1], now=NOW)
        assert rows == alone, grouping


def test_medians_by_sorting_agree_with_the_database_median(fixture_cases):
    from jiayuan.cases.measures.queries import GROUP_FIELDS, _medians, _medians_by_sorting

    fields = list(GROUP_FIELDS.values())
    sorted_ = _medians_by_sorting(AreaScope.all(), SPRING[0], SPRING[1], "month", fields)
    for field in fields:
        db = _medians(AreaScope.all(), SPRING[0], SPRING[1], "month", field)
        assert sorted_[field] == pytest.approx(db), field
    assert sorted_[None][(dt.date(2026, 3, 1), "")] == pytest.approx(72.0)


def test_unknown_grouping_or_period_is_refused(fixture_cases):
    with pytest.raises(ValidationFailed):
        measures(AreaScope.all(), grouping="compound", period="month", start=MARCH[0],
                 end=MARCH[1], now=NOW)
    with pytest.raises(ValidationFailed):
        measures(AreaScope.all(), grouping="total", period="week", start=MARCH[0],
                 end=MARCH[1], now=NOW)


def test_neighbourhood_staff_never_see_another_neighbourhoods_numbers(fixture_cases,
                                                                      make_user):
    staff = make_user("s2staff", "neighbourhood_staff", fixture_cases.neighbourhoods["S2N1"])
    rows = measures(scope_for(staff), grouping="neighbourhood", period="month",
                    start=MARCH[0], end=MARCH[1], now=NOW)
    row = _only(rows)
    assert row.key == str(fixture_cases.neighbourhoods["S2N1"].pk)
    assert (row.counts.reported, row.counts.satisfied) == (1, 1)
    total = _only(measures(scope_for(staff), grouping="total", period="month",
                           start=MARCH[0], end=MARCH[1], now=NOW))
    assert total.counts.reported == 1


def test_a_case_taken_through_the_services_is_counted_responded_closed_and_satisfied(
        tiny, make_user):
    from jiayuan.cases.services import act, open_case

    duty = make_user("duty", "duty_officer", tiny.subdistricts["S1"])
    police = make_user("police", "department_staff", tiny.subdistricts["S1"],
                       department=tiny.departments["S1"])
    t0 = dt.datetime(2026, 3, 9, 10, 0, tzinfo=SH)  # a Monday
    case, _ = open_case(channel="home_code", description="楼道堆物",
                        entrance=tiny.entrances["S1N1C1"], reported_at=t0)
    steps = [(duty, "accept", {}), (duty, "dispatch", {"lead_unit": "department:PS1"}),
             (police, "handle", {"reason": "已清理"}), (duty, "verify_ok", {}),
             (duty, "close", {}), (duty, "rate", {"rating": "basically_satisfied"})]
    for i, (user, kind, extra) in enumerate(steps, start=1):
        case = act(case=case, user=user, kind=kind, now=t0 + i * H, **extra)
    row = _only(measures(AreaScope.all(), grouping="unit", period="month", start=MARCH[0],
                         end=MARCH[1], now=NOW))
    assert row.label == "第1派出所"
    assert (row.counts.responded, row.counts.closed_on_time, row.counts.rated) == (1, 1, 1)
    assert row.rates.satisfaction_rate == pytest.approx(0.9)
    assert row.rates.median_hours_to_close == pytest.approx(5.0)


# ---------------------------------------------------------------- export

def test_workbook_has_a_sheet_per_grouping_chinese_headers_and_the_definitions(
        fixture_cases):
    from openpyxl import load_workbook

    results = all_measures(AreaScope.all(), period="month", start=MARCH[0], end=MARCH[1],
                           now=NOW)
    data = workbook_bytes(build_workbook(results, period="month", start=MARCH[0],
                                         end=MARCH[1], now=NOW))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["全部", "按街道（镇）", "按居民区", "按主办单位", "指标定义"]
    total = wb["全部"]
    header = [c.value for c in total[1]]
    assert header[:4] == ["全部", "统计周期", "响应率", "处置率"]
    values = dict(zip(header, [c.value for c in total[2]], strict=True))
    assert values["统计周期"] == "2026-03"
    assert values["满意率"] == pytest.approx(0.78)
    assert values["结案时长中位数（小时）"] == pytest.approx(72.0)
    assert values["上报数"] == 10
    assert total.cell(row=2, column=header.index("满意率") + 1).number_format == "0.0%"
    units = {row[0]: row for row in wb["按主办单位"].iter_rows(min_row=2, values_only=True)}
    assert set(units) == {"第1派出所", "第2派出所",
                          f"{fixture_cases.neighbourhoods['S1N1'].name}联勤联动站", "未派遣"}
    # 未派遣: no case closed, so no satisfaction rate: an empty cell, not 0.
    assert units["未派遣"][header.index("满意率")] is None
    defs = {row[0]: row[1] for row in wb["指标定义"].iter_rows(min_row=2, values_only=True)
            if row[0]}
    assert "0.9 × 基本满意数" in defs["满意率"]
    assert defs["响应时限（小时）"] == 24


# ---------------------------------------------------------------- pages

@PAGES
def test_measures_page_shows_the_analyst_the_whole_district(fixture_cases, make_user, login):
    analyst = make_user("analyst", "district_analyst")
    res = login(analyst).get("/cases/measures/?year=2026&period=month&grouping=subdistrict")
    assert res.status_code == 200
    body = res.content.decode()
    assert "第1街道" in body and "第2街道" in body
    assert 'data-chart="bar"' in body and "chart-units-data" in body
    assert "<script>" not in body  # no inline script (CSP): only json_script data


@PAGES
def test_neighbourhood_staff_page_and_export_cover_only_their_area(fixture_cases, make_user,
                                                                   login):
    from openpyxl import load_workbook

    staff = make_user("s2staff", "neighbourhood_staff", fixture_cases.neighbourhoods["S2N1"])
    client = login(staff)
    body = client.get("/cases/measures/?year=2026&grouping=subdistrict").content.decode()
    assert "第2街道" in body and "第1街道" not in body
    res = client.get("/cases/measures/export.xlsx?year=2026&period=year")
    assert res.status_code == 200
    assert res["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(res.content))
    reported = [row[-17] for row in wb["全部"].iter_rows(min_row=2, values_only=True)]
    assert reported == [1]
    labels = [row[0] for row in wb["按居民区"].iter_rows(min_row=2, values_only=True)]
    assert labels == [f"第2街道 {fixture_cases.neighbourhoods['S2N1'].name}"]


@PAGES
@pytest.mark.parametrize("role", ["resident", "department_staff", "landlord", "deputy"])
def test_measures_page_and_export_are_refused_to_other_roles(tiny, make_user, login, role):
    client = login(make_user(f"u-{role}", role, tiny.neighbourhoods["S1N1"]))
    assert client.get("/cases/measures/").status_code == 403
    assert client.get("/cases/measures/export.xlsx").status_code == 403


@PAGES
def test_anonymous_visitor_is_sent_to_log_in(client, db):
    res = client.get("/cases/measures/")
    assert res.status_code == 302 and "/login/" in res["Location"]


@PAGES
def test_home_tile_is_shown_to_duty_officers_and_analysts_only(tiny, make_user):
    from jiayuan.web.home import tiles_for

    def keys(user):
        return {tile.key for tile, _url in tiles_for(user)}

    assert "cases.measures" in keys(make_user("duty", "duty_officer", tiny.subdistricts["S1"]))
    assert "cases.measures" in keys(make_user("analyst", "district_analyst"))
    assert "cases.measures" not in keys(make_user("res", "resident"))


@PAGES
def test_bad_filter_values_fall_back_to_the_defaults(fixture_cases, make_user, login):
    res = login(make_user("analyst", "district_analyst")).get(
        "/cases/measures/?year=abc&period=week&grouping=compound")
    assert res.status_code == 200
    assert 'value="subdistrict" selected' in res.content.decode()
