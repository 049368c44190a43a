"""Derivation on a hand-built fixture of cases; expected values computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from jiayuan.index.derive import NoDataSource, derive_leaf
from jiayuan.index.derive.base import derivation_cache
from jiayuan.index.models import LeafValue
from jiayuan.index.services.derivation import derive_period
from jiayuan.index.services.periods import get_or_create_period
from jiayuan.registry.models import Household

from .factories import at, case

Y0, Y1 = dt.date(2025, 1, 1), dt.date(2026, 1, 1)


@pytest.fixture
def cases_2025(tiny):
    a, b = tiny.compounds["S1N1C1"], tiny.compounds["S1N1C2"]
    assert not Household.objects.filter(compound__in=[a, b]).exists()
    assert (a.households, b.households) == (100, 200)
    c1 = case(a, reported=at(2025, 3, 1), closed=at(2025, 3, 2), due=at(2025, 3, 5),
              state="rated", rating="satisfied")                      # 24 h, on time
    case(a, reported=at(2025, 4, 1), closed=at(2025, 4, 3, 22), due=at(2025, 4, 2),
         state="rated", rating="dissatisfied")                         # 60 h, late
    case(a, channel="grid_patrol", reported=at(2025, 5, 1), state="merged",
         category="06001", merged_into=c1)                             # repeat; illegal build
    case(a, channel="home_code", reported=at(2025, 6, 1), state="rejected")  # not counted
    case(a, reported=at(2024, 12, 31, 23, 30))                        # before the period
    case(a, reported=at(2026, 1, 1, 0, 0))                            # after it
    case(a, reported=at(2025, 12, 31, 23, 30))                        # last half hour: in
    case(b, channel="sensor", reported=at(2025, 7, 1, 8), closed=at(2025, 7, 1, 20),
         state="rated", rating="basically_satisfied", category="06041")  # 12 h, no due
    return tiny


def _v(code, compound):
    with derivation_cache():
        return derive_leaf(code, Y0, Y1).values.get(compound.id)


def test_case_leaves_by_hand(cases_2025):
    a, b = cases_2025.compounds["S1N1C1"], cases_2025.compounds["S1N1C2"]
    other = cases_2025.compounds["S2N2C1"]
    # A: counted cases 1, 2, 3 and the last half hour (4); hotline 3 of them; 100 households
    assert _v("hotline_12345_complaints", a) == pytest.approx(3.0)
    assert _v("repeat_complaints", a) == pytest.approx(1.0)
    assert _v("illegal_construction", a) == 1.0
    assert _v("complaints_per_1000_households", a) == pytest.approx(40.0)
    assert _v("complaints_per_1000_households_grid_patrol", a) == pytest.approx(10.0)
    assert _v("average_hours_to_close", a) == pytest.approx(42.0)
    assert _v("closed_on_time_share", a) == pytest.approx(0.5)
    assert _v("satisfaction_share", a) == pytest.approx(0.5)
    # B: one sensor case, 200 households
    assert _v("hotline_12345_complaints", b) == 0.0
    assert _v("complaints_per_1000_households", b) == pytest.approx(5.0)
    assert _v("waste_sorting_violations", b) == 1.0
    assert _v("average_hours_to_close", b) == pytest.approx(12.0)
    assert _v("satisfaction_share", b) == pytest.approx(1.0)
    # no value (not zero) where nothing can be said
    with derivation_cache():
        d = derive_leaf("closed_on_time_share", Y0, Y1)
    assert d.values[b.id] is None and "时限" in d.reasons[b.id]
    assert _v("average_hours_to_close", other) is None
    assert _v("hotline_12345_complaints", other) == 0.0


def test_no_households_is_missing_not_zero(cases_2025):
    a = cases_2025.compounds["S1N1C1"]
    type(a).objects.filter(pk=a.pk).update(households=0)
    with derivation_cache():
        d = derive_leaf("hotline_12345_complaints", Y0, Y1)
    assert d.values[a.id] is None and d.reasons[a.id]


def test_absent_sources_are_reported(cases_2025):
    for code in ("volunteer_activity", "party_volunteer_points", "property_disputes",
                 "utility_anomalies"):
        with pytest.raises(NoDataSource):
            derive_leaf(code, Y0, Y1)


def test_derive_period_stores_values_and_reports(cases_2025):
    a = cases_2025.compounds["S1N1C1"]
    period = get_or_create_period("2025")
    report = derive_period(period, ["hotline_12345_complaints", "volunteer_activity",
                                    "closed_on_time_share", "population_registration_accuracy"])
    assert report["hotline_12345_complaints"]["status"] == "derived"
    assert report["hotline_12345_complaints"]["values"] == 8
    assert report["volunteer_activity"]["status"] == "no_data_source"
    assert report["population_registration_accuracy"]["status"] == "no_deriver"
    assert report["closed_on_time_share"]["missing"] == 7
    row = LeafValue.objects.get(period=period, compound=a, indicator="hotline_12345_complaints")
    assert row.value == pytest.approx(3.0) and row.source == "platform"
    assert not LeafValue.objects.filter(indicator="volunteer_activity").exists()
    # deriving again replaces, never duplicates
    derive_period(period, ["hotline_12345_complaints"])
    assert LeafValue.objects.filter(period=period, indicator="hotline_12345_complaints").count() == 8


def test_council_leaves_come_from_the_council_app(cases_2025, make_user):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from jiayuan.council.models import Council, Meeting

    a = cases_2025.compounds["S1N1C1"]
    council = Council.objects.create(neighbourhood=a.neighbourhood, name="S1N1 理事会")
    at = dt.datetime(2025, 6, 1, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    for kind, status in [("hearing", "held"), ("hearing", "held"), ("coordination", "held"),
                         ("evaluation", "planned")]:
        Meeting.objects.create(council=council, compound=a, kind=kind, status=status,
                               title=kind, starts_at=at)
    assert _v("three_meetings_held", a) == 3.0  # held ones only
    assert _v("three_meetings_held", cases_2025.compounds["S1N1C2"]) == 0.0
    assert _v("grant_spending", a) == 0.0  # no grant spent


def test_category_mapping_from_settings(cases_2025, settings):
    a = cases_2025.compounds["S1N1C1"]
    settings.JIAYUAN_INDEX_CATEGORIES = {"property_disputes": ["06001"]}
    assert _v("property_disputes", a) == pytest.approx(1.0)  # 1 case / 100 households × 100
