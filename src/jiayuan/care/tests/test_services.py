"""Register, rescoring, visits, signals and care tasks through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from jiayuan.care.models import CareSignal, CareTask, ElderLivingAlone, RiskAssessment, VisitLog
from jiayuan.care.services import (
    assign_task,
    complete_task,
    log_visit,
    record_signal,
    register_elder,
    update_elder,
)
from jiayuan.core.errors import Conflict, Forbidden, InvalidTransition, OutOfScope, ValidationFailed

pytestmark = pytest.mark.django_db


def test_registering_scores_the_risk_and_schedules_a_first_visit(elder):
    # 1940 → age 86 (2) + fair health (1) + no carer (2) = 5 → medium
    assert elder.risk_level == "medium" and elder.risk_score == 5
    assert elder.path == elder.entrance.path
    assert elder.neighbourhood.code.endswith("001")
    assert elder.next_visit_due == elder.created_at
    assert RiskAssessment.objects.filter(elder=elder, cause="registered").count() == 1


@pytest.mark.parametrize("change, field", [
    ({"name": ""}, "name"),
    ({"birth_year": 1990}, "birth_year"),
    ({"id_number": "310115194003150010"}, "id_number"),  # wrong check character
    ({"phone": "12-34"}, "phone"),
    ({"health": "terrible"}, "health"),
    ({"chronic_conditions": -2}, "chronic_conditions"),
    ({"emergency_contacts": [{"name": "李明", "phone": "abc"}]}, "emergency_contacts"),
])
def test_bad_input_is_refused_with_the_field_and_nothing_saved(tiny, people, elder_data,
                                                               change, field):
    with pytest.raises(ValidationFailed) as err:
        register_elder(by=people["staff"], data={**elder_data, **change},
                       entrance=tiny.entrances["S1N1C1"])
    assert field in err.value.details
    assert ElderLivingAlone.objects.count() == 0


def test_birth_year_must_match_the_id_number(tiny, people, elder_data):
    with pytest.raises(ValidationFailed) as err:
        register_elder(by=people["staff"], data={**elder_data, "birth_year": 1941},
                       entrance=tiny.entrances["S1N1C1"])
    assert "birth_year" in err.value.details


def test_the_same_id_number_cannot_be_registered_twice(tiny, people, elder, elder_data):
    with pytest.raises(Conflict):
        register_elder(by=people["staff"], data=elder_data, entrance=tiny.entrances["S1N1C2"])
    assert ElderLivingAlone.objects.count() == 1


def test_staff_cannot_register_outside_their_neighbourhood_nor_other_roles_at_all(
        tiny, people, elder_data):
    with pytest.raises(OutOfScope):
        register_elder(by=people["staff"], data=elder_data, entrance=tiny.entrances["S1N2C1"])
    with pytest.raises(Forbidden):
        register_elder(by=people["police"], data=elder_data, entrance=tiny.entrances["S1N1C1"])
    assert ElderLivingAlone.objects.count() == 0


def test_a_rise_in_risk_from_an_edit_opens_one_care_task(elder, people):
    update_elder(elder=elder, by=people["staff"], data={"mobility": "bedridden"})
    elder.refresh_from_db()
    assert elder.risk_level == "high"
    task = CareTask.objects.get(elder=elder)
    assert task.kind == "risk_rise" and task.status == "open" and "中" in task.reason
    update_elder(elder=elder, by=people["staff"], data={"cognition": "severe"})
    assert CareTask.objects.filter(elder=elder).count() == 1  # no rise in level: no new task


def test_a_missed_signal_creates_a_task_once_and_a_repeat_changes_nothing(tiny, elder):
    at = timezone.now()
    first = record_signal(entrance=tiny.entrances["S1N1C1"], kind="no_activity", at=at,
                          source_ref="sensors.alarm:7")
    assert len(first) == 1 and first[0].task_created and first[0].level_after == "high"
    again = record_signal(entrance=tiny.entrances["S1N1C1"], kind="no_activity", at=at,
                          source_ref="sensors.alarm:7")
    assert again[0].recorded is False
    later = record_signal(person=elder, kind="no_activity", at=at + dt.timedelta(hours=12),
                          source_ref="sensors.alarm:8")
    assert later[0].recorded and not later[0].task_created
    assert CareTask.objects.filter(elder=elder).count() == 1
    task = CareTask.objects.get(elder=elder)
    assert len(task.triggers) == 2
    assert CareSignal.objects.filter(elder=elder).count() == 2


def test_panic_makes_the_open_task_urgent_and_activity_clears_no_activity(tiny, elder, people):
    at = timezone.now()
    record_signal(person=elder, kind="no_activity", at=at, source_ref="a:1")
    record_signal(person=elder, kind="panic", at=at, source_ref="a:2")
    task = CareTask.objects.get(elder=elder)
    assert task.priority == "urgent" and task.kind == "panic"
    record_signal(person=elder, kind="activity", at=at + dt.timedelta(minutes=5))
    elder.refresh_from_db()
    assert elder.active_signals == ["panic"] and elder.last_activity_at is not None
    complete_task(task=task, by=people["staff"], outcome="help_given", notes="已上门")
    elder.refresh_from_db()
    assert elder.active_signals == [] and elder.risk_level == "medium"
    # after the task is done, a new signal opens a new task
    record_signal(person=elder, kind="smoke", at=at + dt.timedelta(hours=1), source_ref="a:3")
    assert CareTask.objects.filter(elder=elder).count() == 2
    assert CareTask.objects.filter(elder=elder, status="open").count() == 1


def test_activity_alone_creates_no_task(elder):
    record_signal(person=elder, kind="activity", at=timezone.now())
    assert not CareTask.objects.exists()


@pytest.mark.parametrize("kwargs", [
    {"kind": "earthquake", "at": "now", "person": "elder"},
    {"kind": "panic", "at": "naive", "person": "elder"},
    {"kind": "panic", "at": "now"},
    {"kind": "panic", "at": "now", "person": "elder", "entrance": "e"},
])
def test_bad_signals_are_refused_and_change_nothing(tiny, elder, kwargs):
    kw = dict(kwargs)
    kw["at"] = dt.datetime(2026, 11, 1, 8) if kw["at"] == "naive" else timezone.now()
    if kw.get("person"):
        kw["person"] = elder
    if kw.get("entrance"):
        kw["entrance"] = tiny.entrances["S1N1C1"]
    with pytest.raises(ValidationFailed):
        record_signal(**kw)
    assert not CareSignal.objects.exists() and not CareTask.objects.exists()


def test_a_signal_where_nobody_is_registered_does_nothing(tiny, elder):
    assert record_signal(entrance=tiny.entrances["S2N1C1"], kind="panic",
                         at=timezone.now()) == []


def test_a_visit_reschedules_by_risk_level_and_a_worrying_one_opens_a_task(elder, people):
    v = log_visit(elder=elder, by=people["staff"], outcome="well", notes="精神很好")
    elder.refresh_from_db()
    assert elder.last_visit_at == v.visited_at
    assert elder.next_visit_due == v.visited_at + dt.timedelta(days=14)  # medium: fortnightly
    assert not CareTask.objects.exists()
    log_visit(elder=elder, by=people["staff"], outcome="not_home",
              visitor_name="志愿者 陈阿姨", method="phone")
    task = CareTask.objects.get(elder=elder)
    assert task.kind == "visit" and "不在家" in task.reason


@pytest.mark.parametrize("kwargs", [
    {"outcome": "fine"}, {"outcome": "well", "method": "pigeon"},
    {"outcome": "well", "visited_at": timezone.now() + dt.timedelta(days=1)},
    {"outcome": "well", "visited_at": timezone.now() - dt.timedelta(days=40)},
])
def test_bad_visits_are_refused(elder, people, kwargs):
    with pytest.raises(ValidationFailed):
        log_visit(elder=elder, by=people["staff"], **kwargs)
    assert not VisitLog.objects.exists()


def test_other_neighbourhood_cannot_log_visits_or_touch_tasks(elder, people):
    with pytest.raises(OutOfScope):
        log_visit(elder=elder, by=people["other"], outcome="well")
    record_signal(person=elder, kind="panic", at=timezone.now())
    task = CareTask.objects.get()
    with pytest.raises(OutOfScope):
        complete_task(task=task, by=people["other"], outcome="help_given")
    with pytest.raises(Forbidden):
        assign_task(task=task, by=people["duty"])


def test_task_lifecycle_assign_then_done_and_not_twice(elder, people):
    record_signal(person=elder, kind="no_activity", at=timezone.now())
    task = CareTask.objects.get()
    assign_task(task=task, by=people["staff"])
    task.refresh_from_db()
    assert task.status == "assigned" and task.assigned_to == people["staff"]
    with pytest.raises(ValidationFailed):
        complete_task(task=task, by=people["staff"], outcome="")
    complete_task(task=task, by=people["staff"], outcome="visited_ok")
    with pytest.raises(InvalidTransition):
        complete_task(task=task, by=people["staff"], outcome="visited_ok")
    with pytest.raises(InvalidTransition):
        assign_task(task=task, by=people["staff"])


def test_daily_rescore_opens_a_task_when_age_moves_someone_up(elder, people):
    from jiayuan.care.tasks import rescore_all

    # make the stored level stale, as if the person's birthday had just passed
    ElderLivingAlone.objects.filter(pk=elder.pk).update(risk_level="low", risk_score=3)
    assert rescore_all() == 1
    assert CareTask.objects.get(elder=elder).kind == "risk_rise"
    assert rescore_all() == 0


def test_a_signal_for_a_household_reaches_only_the_person_living_there(tiny, people,
                                                                       elder_data):
    from jiayuan.registry.models import Household

    e = tiny.entrances["S1N1C1"]
    h1 = Household.objects.create(entrance=e, compound=tiny.compounds["S1N1C1"], room="101")
    h2 = Household.objects.create(entrance=e, compound=tiny.compounds["S1N1C1"], room="102")
    a = register_elder(by=people["staff"], data=elder_data, household=h1)
    b = register_elder(by=people["staff"], data={**elder_data, "id_number": "",
                                                 "name": "李秀兰"}, household=h2)
    assert a.room == "101" and a.entrance == e
    out = record_signal(household=h2, kind="panic", at=timezone.now(), source_ref="x:1")
    assert [r.elder_id for r in out] == [b.pk]
    both = record_signal(entrance=e, kind="smoke", at=timezone.now(), source_ref="x:2")
    assert {r.elder_id for r in both} == {a.pk, b.pk}
