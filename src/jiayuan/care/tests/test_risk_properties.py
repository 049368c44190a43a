"""The pure risk score: its rules on hand-made cases, and monotonicity as properties."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiayuan.care import risk
from jiayuan.care.risk import Attributes, Level, assess, parse_weights
from jiayuan.care.schedule import next_due, overdue_days, week_bounds

RAW = json.loads(risk.DATA_FILE.read_text(encoding="utf-8"))


def ordinal(name: str) -> st.SearchStrategy[int]:
    return st.integers(0, len(risk.ORDINALS[name]) - 1)


vectors = st.fixed_dictionaries({
    "age": st.integers(60, 110), "chronic_conditions": st.integers(0, 10),
    **{n: ordinal(n) for n in risk.ORDINALS},
    "stairs_without_elevator": st.booleans(), "children_away": st.booleans(),
    "no_contact": st.booleans(),
})


def build(v: dict[str, int | bool]) -> Attributes:
    return Attributes(
        age=int(v["age"]), chronic_conditions=int(v["chronic_conditions"]),
        **{n: risk.ORDINALS[n][int(v[n])] for n in risk.ORDINALS},
        stairs_without_elevator=bool(v["stairs_without_elevator"]),
        children_nearby=not v["children_away"], has_emergency_contact=not v["no_contact"])


def worse(v: dict[str, int | bool], data: st.DataObject) -> dict[str, int | bool]:
    """A copy of ``v`` with every attribute the same or worse."""
    w = dict(v)
    w["age"] = data.draw(st.integers(int(v["age"]), 115))
    w["chronic_conditions"] = data.draw(st.integers(int(v["chronic_conditions"]), 12))
    for n in risk.ORDINALS:
        w[n] = data.draw(st.integers(int(v[n]), len(risk.ORDINALS[n]) - 1))
    for b in ("stairs_without_elevator", "children_away", "no_contact"):
        w[b] = bool(v[b]) or data.draw(st.booleans())
    return w


signal_sets = st.sets(st.sampled_from(risk.SIGNAL_KINDS))


@given(vectors, signal_sets, st.data())
def test_worse_attributes_never_lower_the_risk(v, signals, data):
    a, b = assess(build(v), signals), assess(build(worse(v, data)), signals)
    assert b.score >= a.score
    assert b.level.rank >= a.level.rank


@given(vectors, signal_sets, signal_sets)
def test_a_sensor_signal_never_lowers_the_risk(v, signals, more):
    a, b = assess(build(v), signals), assess(build(v), signals | more)
    assert b.score >= a.score
    assert b.level.rank >= a.level.rank


@given(vectors)
def test_panic_or_smoke_is_always_high_and_no_activity_at_least_medium(v):
    attrs = build(v)
    assert assess(attrs, {"panic"}).level is Level.HIGH
    assert assess(attrs, {"smoke"}).level is Level.HIGH
    assert assess(attrs, {"no_activity"}).level.rank >= Level.MEDIUM.rank


def test_a_fit_seventy_year_old_with_family_is_low_and_a_frail_ninety_year_old_is_high():
    assert assess(Attributes(age=72)).level is Level.LOW
    frail = Attributes(age=91, health="poor", mobility="assisted", carer="none",
                       children_nearby=False)
    result = assess(frail)
    assert result.level is Level.HIGH
    assert dict(result.reasons)["age"] == 3
    medium = Attributes(age=82, health="fair", carer="occasional")  # 2 + 1 + 1 = 4
    assert assess(medium).level is Level.MEDIUM and assess(medium).score == 4


def test_chronic_conditions_are_capped():
    assert assess(Attributes(age=60, chronic_conditions=9)).score == RAW["chronic_conditions"]["max"]


def test_unknown_values_and_signals_are_refused():
    with pytest.raises(ValueError):
        assess(Attributes(age=70, health="terrible"))
    with pytest.raises(ValueError):
        assess(Attributes(age=70), {"earthquake"})


@pytest.mark.parametrize("breakage", [
    lambda r: r["health"].update(poor=0),             # worse health scoring less
    lambda r: r["age_bands"].append([85, 1]),         # bands out of order
    lambda r: r["thresholds"].update(medium=9),       # medium above high
    lambda r: r["mobility"].pop("bedridden"),         # a value missing
    lambda r: r["signals"]["panic"].update(points=-1),
    lambda r: r["visit_interval_days"].update(high=60),  # high visited less often than low
])
def test_a_non_monotone_or_malformed_weights_table_is_refused(breakage):
    raw = copy.deepcopy(RAW)
    breakage(raw)
    with pytest.raises(risk.RiskConfigError):
        parse_weights(raw)


def test_visit_intervals_are_weekly_fortnightly_monthly():
    assert [risk.visit_interval_days(lv) for lv in ("high", "medium", "low")] == [7, 14, 30]


def test_schedule_due_from_registration_then_last_visit_plus_interval():
    import datetime as dt

    tz = dt.timezone(dt.timedelta(hours=8))
    reg = dt.datetime(2026, 11, 1, 9, tzinfo=tz)
    assert next_due("high", last_visit_at=None, registered_at=reg) == reg
    visit = dt.datetime(2026, 11, 10, 9, tzinfo=tz)
    assert next_due("medium", last_visit_at=visit, registered_at=reg) == visit + dt.timedelta(14)
    assert overdue_days(visit, visit + dt.timedelta(days=3, hours=2)) == 3
    assert overdue_days(visit, visit - dt.timedelta(days=3)) == 0
    assert week_bounds(dt.date(2026, 11, 25)) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    with pytest.raises(ValueError):
        next_due("low", last_visit_at=dt.datetime(2026, 11, 1), registered_at=reg)
