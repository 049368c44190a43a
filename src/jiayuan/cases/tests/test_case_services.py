"""Intake and transitions through the services: one path in, one history, scope enforced."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services import act, act_as_reporter, open_case
from jiayuan.cases.services.units import ref
from jiayuan.core.errors import (
    Forbidden,
    InvalidCoordinates,
    InvalidTransition,
    OutOfScope,
    ValidationFailed,
)
from jiayuan.registry.models import JointStation

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)


@pytest.fixture
def people(tiny, make_user):
    n = tiny.neighbourhoods["S1N1"]
    return {
        "staff": make_user("staff", "neighbourhood_staff", n),
        "other_staff": make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"]),
        "police": make_user("police", "department_staff", tiny.subdistricts["S1"],
                            department=tiny.departments["S1"]),
        "duty": make_user("duty", "duty_officer", tiny.subdistricts["S1"]),
    }


def test_home_code_report_is_placed_at_its_entrance_with_a_deadline(tiny):
    entrance = tiny.entrances["S1N1C1"]
    case, created = open_case(channel="home_code", description="楼道堆物", category_code="06036",
                              entrance=entrance, reported_at=MONDAY_10)
    assert created
    assert case.compound == tiny.compounds["S1N1C1"]
    assert case.path == tiny.compounds["S1N1C1"].path
    assert case.number.startswith("JY20261116")
    # No category limit for 06036: the platform default of 5 working days, end of day.
    assert case.due_at.astimezone(SH) == dt.datetime(2026, 11, 23, 17, 30, tzinfo=SH)
    events = CaseEvent.objects.filter(case=case).order_by("seq")
    assert [(e.seq, e.action, e.to_state) for e in events] == [
        (1, "report", "reported"), (2, "route", "reported")]


def test_category_time_limit_in_working_hours_sets_the_deadline(tiny):
    case, _ = open_case(channel="grid_patrol", description="路面暴露垃圾",
                        category_code="06010", lng=121.425, lat=31.15, reported_at=MONDAY_10)
    assert case.due_at.astimezone(SH) == dt.datetime(2026, 11, 16, 15, 0, tzinfo=SH)
    assert case.warn_at < case.due_at


def test_point_in_a_compound_is_located_and_gcj02_is_converted(tiny):
    from jiayuan.registry.geo import from_wgs84

    gx, gy = from_wgs84(121.4484, 31.15, "gcj02")
    case, _ = open_case(channel="grid_patrol", description="井盖缺失", lng=gx, lat=gy,
                        crs="gcj02")
    assert case.compound == tiny.compounds["S1N1C1"]
    assert abs(case.lng - 121.4484) < 1e-6
    assert case.grid_cell_code == tiny.grid_cells["S1N1"].code


def test_retry_with_the_same_idempotency_key_creates_one_case(tiny):
    first, created1 = open_case(channel="home_code", description="路灯不亮",
                                entrance=tiny.entrances["S1N1C1"], idempotency_key="abc-1")
    again, created2 = open_case(channel="home_code", description="路灯不亮",
                                entrance=tiny.entrances["S1N1C1"], idempotency_key="abc-1")
    assert created1 and not created2 and first.pk == again.pk
    assert Case.objects.count() == 1


def test_hotline_reimport_of_the_same_work_order_creates_one_case(tiny):
    open_case(channel="hotline_12345", description="噪声扰民", external_id="SH12345-001")
    _, created = open_case(channel="hotline_12345", description="噪声扰民(重复)",
                           external_id="SH12345-001")
    assert not created and Case.objects.count() == 1


@pytest.mark.parametrize("kwargs,error", [
    ({"channel": "fax", "description": "x"}, ValidationFailed),
    ({"channel": "home_code", "description": "  "}, ValidationFailed),
    ({"channel": "home_code", "description": "x" * 2001}, ValidationFailed),
    ({"channel": "home_code", "description": "x", "category_code": "99999"}, ValidationFailed),
    ({"channel": "home_code", "description": "x", "lng": "abc", "lat": "31"}, InvalidCoordinates),
    ({"channel": "home_code", "description": "x", "lng": 121.4, "lat": 95}, InvalidCoordinates),
])
def test_malformed_intake_is_refused_and_creates_nothing(tiny, kwargs, error):
    with pytest.raises(error):
        open_case(**kwargs)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_the_whole_loop_from_report_to_rating(tiny, people):
    entrance = tiny.entrances["S1N1C1"]
    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    case, _ = open_case(channel="home_code", description="楼道灯坏了", entrance=entrance,
                        reported_at=MONDAY_10)
    staff = people["staff"]
    case = act(case=case, user=staff, kind="accept", now=MONDAY_10)
    case = act(case=case, user=staff, kind="dispatch", lead_unit=ref(station), now=MONDAY_10)
    case = act(case=case, user=staff, kind="handle", reason="已更换灯泡", now=MONDAY_10)
    case = act(case=case, user=people["duty"], kind="verify_ok", now=MONDAY_10)
    case = act(case=case, user=people["duty"], kind="close", now=MONDAY_10)
    case = act_as_reporter(token=case.tracking_token, kind="rate", rating="satisfied",
                           now=MONDAY_10)
    assert case.state == "rated" and case.rating == "satisfied"
    assert case.closed_at == MONDAY_10 and case.handled_at == MONDAY_10
    actions = list(case.events.values_list("seq", "action", "from_state", "to_state"))
    assert actions == [
        (1, "report", "", "reported"), (2, "route", "reported", "reported"),
        (3, "accept", "reported", "accepted"),
        (4, "dispatch", "accepted", "dispatched"), (5, "handle", "dispatched", "handled"),
        (6, "verify_ok", "handled", "verified"), (7, "close", "verified", "closed"),
        (8, "rate", "closed", "rated"),
    ]


def test_staff_of_another_neighbourhood_cannot_act_and_nothing_changes(tiny, people):
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"])
    with pytest.raises(OutOfScope):
        act(case=case, user=people["other_staff"], kind="accept")
    case.refresh_from_db()
    assert case.state == "reported" and case.events.count() == 2  # report, route


def test_a_department_that_was_not_dispatched_cannot_report_it_handled(tiny, people):
    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"])
    act(case=case, user=people["staff"], kind="accept")
    act(case=case, user=people["staff"], kind="dispatch", lead_unit=ref(station))
    with pytest.raises(Forbidden):
        act(case=case, user=people["police"], kind="handle", reason="已处理")
    case.refresh_from_db()
    assert case.state == "dispatched"


def test_invalid_transition_is_refused_with_the_state_named(tiny, people):
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"])
    with pytest.raises(InvalidTransition, match="已上报"):
        act(case=case, user=people["staff"], kind="close")


def test_dispatch_to_an_unknown_unit_is_refused(tiny, people):
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"])
    act(case=case, user=people["staff"], kind="accept")
    with pytest.raises(ValidationFailed, match="未知的处置单位"):
        act(case=case, user=people["staff"], kind="dispatch", lead_unit="department:NOPE")


def test_approved_extension_moves_the_deadline_by_working_days(tiny, people):
    from jiayuan.cases.workdays import TimeLimit, TimeUnit

    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"],
                        reported_at=MONDAY_10)
    staff = people["staff"]
    act(case=case, user=staff, kind="accept", now=MONDAY_10)
    act(case=case, user=staff, kind="dispatch", lead_unit=ref(station), now=MONDAY_10)
    act(case=case, user=staff, kind="request_extension", reason="需采购配件",
        extension=TimeLimit(2, TimeUnit.WORKING_DAYS), now=MONDAY_10)
    case = act(case=case, user=people["duty"], kind="approve_extension", now=MONDAY_10)
    # Due Mon 23 Nov 17:30 → two working days later: Wed 25 Nov 17:30.
    assert case.due_at.astimezone(SH) == dt.datetime(2026, 11, 25, 17, 30, tzinfo=SH)
    assert case.extension_count == 1


def test_merged_duplicate_points_to_the_surviving_case(tiny, people):
    a, _ = open_case(channel="home_code", description="噪声", entrance=tiny.entrances["S1N1C1"])
    b, _ = open_case(channel="home_code", description="噪声扰民", entrance=tiny.entrances["S1N1C1"])
    b = act(case=b, user=people["staff"], kind="merge", into_case=a)
    assert b.state == "merged" and b.merged_into == a
    with pytest.raises(ValidationFailed):
        act(case=a, user=people["staff"], kind="merge", into_case=b)


def test_reporter_token_cannot_rate_an_open_case(tiny):
    case, _ = open_case(channel="home_code", description="x", entrance=tiny.entrances["S1N1C1"])
    with pytest.raises(InvalidTransition):
        act_as_reporter(token=case.tracking_token, kind="rate", rating="satisfied")
