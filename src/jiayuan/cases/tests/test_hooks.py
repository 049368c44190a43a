"""Cases raised by other modules: tier/time-limit overrides, notes, and observers of outcomes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jiayuan.cases import hooks
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.notes import add_note
from jiayuan.cases.services.units import ref
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import ValidationFailed

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)


@pytest.fixture
def seen():
    got: list[tuple[str, str, str]] = []

    def observer(case, event):
        got.append((case.source_ref, event.action, event.to_state))

    hooks.subscribe("test.thing", observer)
    yield got
    hooks._observers.pop("test.thing", None)


def test_a_sensor_alarm_is_due_in_minutes_around_the_clock(tiny):
    saturday_23 = dt.datetime(2026, 11, 21, 23, 0, tzinfo=SH)
    case, _ = open_case(channel="sensor", description="烟感报警", lng=121.425, lat=31.15,
                        reported_at=saturday_23, time_limit=TimeLimit(30, TimeUnit.MINUTES),
                        source_ref="sensors.alarm:1")
    assert case.due_at.astimezone(SH) == dt.datetime(2026, 11, 21, 23, 30, tzinfo=SH)
    assert case.source_ref == "sensors.alarm:1"


def test_a_council_escalation_opens_at_the_centre_tier(tiny):
    case, _ = open_case(channel="council", description="加装电梯协调不成", tier="operations_centre",
                        source_ref="council.topic:9")
    assert case.tier == "operations_centre"


@pytest.mark.parametrize("kwargs", [{"tier": "galaxy"}, {"source_ref": "x" * 65}])
def test_bad_overrides_are_refused_and_create_nothing(tiny, kwargs):
    with pytest.raises(ValidationFailed):
        open_case(channel="council", description="问题", **kwargs)
    assert not Case.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_observers_hear_committed_steps_of_their_own_cases_only(tiny, make_user, seen):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    mine, _ = open_case(channel="council", description="垃圾房异味", lng=121.425, lat=31.15,
                        source_ref="test.thing:1")
    other, _ = open_case(channel="council", description="垃圾房异味", lng=121.425, lat=31.15,
                         source_ref="elsewhere:1")
    act(case=mine, user=staff, kind="accept")
    act(case=other, user=staff, kind="accept")
    add_note(mine, text="理事会已知悉", actor_role="system")
    assert seen == [("test.thing:1", "report", "reported"),
                    ("test.thing:1", "route", "reported"),
                    ("test.thing:1", "accept", "accepted"),
                    ("test.thing:1", "note", "accepted")]


@pytest.mark.django_db(transaction=True)
def test_an_observer_is_not_told_of_a_step_that_rolled_back(tiny, make_user, seen):
    from django.db import transaction
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    case, _ = open_case(channel="council", description="问题", lng=121.425, lat=31.15,
                        source_ref="test.thing:2")
    assert [action for _, action, _ in seen] == ["report", "route"]
    seen.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        act(case=case, user=staff, kind="accept")
        raise RuntimeError
    assert seen == []
    assert Case.objects.get(pk=case.pk).state == "reported"


def test_a_failing_observer_does_not_undo_the_step(tiny, make_user, django_capture_on_commit_callbacks):
    def broken(case, event):
        raise ValueError("bug elsewhere")

    hooks.subscribe("test.broken", broken)
    try:
        staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
        case, _ = open_case(channel="council", description="问题", lng=121.425, lat=31.15,
                            source_ref="test.broken:1")
        with django_capture_on_commit_callbacks(execute=True):
            act(case=case, user=staff, kind="accept")
        assert Case.objects.get(pk=case.pk).state == "accepted"
    finally:
        hooks._observers.pop("test.broken", None)


def test_a_note_keeps_the_state_and_extends_the_history(tiny):
    case, _ = open_case(channel="sensor", description="水浸报警", lng=121.425, lat=31.15)
    event = add_note(case, text="告警已消除", payload={"alarm": 3})
    case.refresh_from_db()
    assert (case.state, case.seq) == ("reported", event.seq)
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)
                .order_by("seq"))[-1] == "note"
    with pytest.raises(ValidationFailed):
        add_note(case, text="   ")
    assert CaseEvent.objects.filter(case=case).count() == event.seq
    assert ref  # units helper importable for modules that dispatch
