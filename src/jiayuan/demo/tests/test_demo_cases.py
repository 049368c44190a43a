"""Demo cases: every history is a valid lifecycle path; the year looks like a real one."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from jiayuan.cases.models import Case, CaseEvent
from jiayuan.core.errors import Conflict
from jiayuan.demo.cases import day_factor, generate_cases, replay_history, season_weight

SH = ZoneInfo("Asia/Shanghai")
END = dt.datetime(2026, 11, 20, 18, 0, tzinfo=SH)


@pytest.fixture
def year(tiny):
    return generate_cases(5, days=365, per_day=12, end=END, through_services=3)


def _snapshot_matches(case, snap):
    return (snap.state.value, snap.seq, snap.return_count, snap.extension_count,
            snap.reopened_count, snap.supervise_count, snap.rating.value if snap.rating else "",
            snap.lead_unit or "") == (
        case.state, case.seq, case.return_count, case.extension_count, case.reopened_count,
        case.supervise_count, case.rating, case.lead_unit)


def test_every_stored_history_replays_through_the_state_machine_to_the_case_row(year):
    events: dict[int, list[CaseEvent]] = {}
    for e in CaseEvent.objects.order_by("case_id", "seq"):
        events.setdefault(e.case_id, []).append(e)
    cases = list(Case.objects.all())
    assert len(cases) == year["cases"] > 3000
    for case in cases:
        snap = replay_history(case, events[case.pk])
        assert _snapshot_matches(case, snap), case.number


def test_merged_cases_point_to_an_earlier_survivor_of_the_same_compound(year):
    merged = list(Case.objects.filter(state="merged").select_related("merged_into"))
    assert merged
    for c in merged:
        assert c.merged_into.compound_id == c.compound_id
        assert c.merged_into.reported_at <= c.reported_at
        event = c.events.get(action="merge")
        assert event.payload["into_case"] == str(c.merged_into_id)


def test_the_year_has_the_expected_mix(year):
    cases = list(Case.objects.all())
    states = Counter(c.state for c in cases)
    for state in ("reported", "dispatched", "closed", "rated", "merged", "rejected"):
        assert states[state] > 0, state
    assert sum(c.return_count > 0 for c in cases) > 0
    assert sum(c.extension_count > 0 for c in cases) > 0
    assert sum(c.reopened_count > 0 for c in cases) > 0
    overdue = [c for c in cases if c.handled_at and c.due_at and c.handled_at > c.due_at]
    assert 0.03 < len(overdue) / len(cases) < 0.2
    rated = [c.rating for c in cases if c.rating]
    satisfied = sum(r == "satisfied" for r in rated) / len(rated)
    assert 0.65 < satisfied < 0.9
    channels = Counter(c.channel for c in cases)
    assert channels.most_common(1)[0][0] == "hotline_12345"
    assert len(channels) >= 6
    # Cases reported in the last day are still open; most of the year's are done.
    recent = [c for c in cases if c.reported_at > END - dt.timedelta(hours=12)]
    assert recent and all(c.state not in ("closed", "rated") for c in recent)


def test_seasonality_noise_in_summer_snow_in_winter_and_a_spring_festival_dip(year):
    by_month: dict[int, Counter[str]] = {}
    per_day: Counter[dt.date] = Counter()
    for code, at in Case.objects.values_list("category__code", "reported_at"):
        local = at.astimezone(SH)
        by_month.setdefault(local.month, Counter())[code] += 1
        per_day[local.date()] += 1

    def share(months, code):
        total = sum(sum(by_month[m].values()) for m in months)
        return sum(by_month[m][code] for m in months) / total

    assert share((6, 7, 8), "06028") > 1.3 * share((12, 1, 2), "06028")
    assert share((6, 7, 8), "10001") == 0 and share((12, 1, 2), "10001") > 0.02
    festival = [per_day[dt.date(2026, 2, 17) + dt.timedelta(days=i)] for i in range(6)]
    march = [per_day[dt.date(2026, 3, 2) + dt.timedelta(days=i)] for i in range(5)]
    assert sum(festival) / 6 < 0.7 * sum(march) / 5


def test_same_seed_same_cases_and_a_second_run_is_refused(tiny):
    generate_cases(9, days=20, per_day=5, end=END, through_services=0)
    first = list(Case.objects.order_by("number").values_list("number", "description", "state"))
    with pytest.raises(Conflict):
        generate_cases(9, days=20, per_day=5, end=END)
    CaseEvent.objects.all().delete()
    Case.objects.filter(merged_into__isnull=False).delete()
    Case.objects.all().delete()
    generate_cases(9, days=20, per_day=5, end=END, through_services=0)
    again = list(Case.objects.order_by("number").values_list("number", "description", "state"))
    assert again == first


def test_weights_behave():
    assert season_weight("10001", 7) == 0 and season_weight("10001", 1) > 1
    assert season_weight("06028", 7) > season_weight("06028", 1)
    assert day_factor(dt.date(2026, 2, 18)) < day_factor(dt.date(2026, 3, 4))


def test_generate_command_writes_cases_unless_told_not_to(db):
    from io import StringIO

    from django.core.management import call_command

    call_command("generate", scale="street", seed=3, no_cases=True, stdout=StringIO())
    assert not Case.objects.exists()
    counts = generate_cases(3, days=3, per_day=4, end=END, through_services=1)
    # The sample opened through the services carries real numbers and a route event.
    assert Case.objects.exclude(number__contains="D").count() == counts["through_services"] == 1
    sampled = Case.objects.exclude(number__contains="D").get()
    assert sampled.events.filter(action="route").exists()
