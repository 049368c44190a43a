"""The SLA sweep: warn once, escalate one tier at the acceptance boundary, flag overdue once,
leave finished cases alone, count in working time, tell the right people, and never act twice
when two workers sweep at once."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from jiayuan.cases import sla
from jiayuan.cases.models import Case, CaseEvent, Notification
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.units import ref
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import ValidationFailed
from jiayuan.core.notify import LoggingBackend
from jiayuan.registry.models import JointStation, OperationsCentre
from jiayuan.registry.services import save_with_path

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)
US = dt.timedelta(microseconds=1)
# A limit no test case reaches, to look at one step of the sweep alone.
NEVER = TimeLimit(60, TimeUnit.WORKING_DAYS)


@pytest.fixture
def people(tiny, make_user):
    s1, s2 = tiny.subdistricts["S1"], tiny.subdistricts["S2"]
    for key, s in (("S1", s1), ("S2", s2)):
        save_with_path(OperationsCentre(code=f"OC{key}", name=f"{s.name}城运中心",
                                        district=tiny.district, subdistrict=s))
    return {
        "staff": make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"],
                           phone="13800000001"),
        "other_staff": make_user("other", "neighbourhood_staff", tiny.neighbourhoods["S2N1"],
                                 phone="13800000002"),
        "police": make_user("police", "department_staff", s1,
                            department=tiny.departments["S1"], phone="13800000003"),
        "liaison": make_user("liaison", "liaison", s1, department=tiny.departments["S1"]),
        "other_police": make_user("police2", "department_staff", s2,
                                  department=tiny.departments["S2"], phone="13800000004"),
        "duty": make_user("duty", "duty_officer", s1, phone="13800000005"),
        "other_duty": make_user("duty2", "duty_officer", s2, phone="13800000006"),
    }


def report(tiny, at=MONDAY_10, category="06010", where="S1N1C1", **kw):
    # Unrouted, so the case keeps its category's default tier: these tests are about time.
    case, _ = open_case(channel="home_code", description="路面暴露垃圾", category_code=category,
                        entrance=tiny.entrances[where], reported_at=at, route=False, **kw)
    return case


def events(case, action):
    return list(CaseEvent.objects.filter(case=case, action=action).order_by("seq"))


def dispatched(case, people, lead_unit, at=MONDAY_10):
    act(case=case, user=people["duty"], kind="accept", now=at)
    return act(case=case, user=people["duty"], kind="dispatch", lead_unit=lead_unit, now=at)


def closed(case, people, tiny, at):
    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    dispatched(case, people, ref(station), at=at)
    act(case=case, user=people["staff"], kind="handle", reason="已清运", now=at)
    act(case=case, user=people["duty"], kind="verify_ok", now=at)
    return act(case=case, user=people["duty"], kind="close", now=at)


# --- warning ---------------------------------------------------------------------------------------

def test_warning_fires_once_at_the_warning_point_and_not_before(tiny, people):
    case = dispatched(report(tiny), people, ref(tiny.departments["S1"]))
    # 06010 暴露垃圾: 4 working hours from Mon 10:00 → 15:00; 80 % used at 14:12.
    assert case.warn_at.astimezone(SH) == dt.datetime(2026, 11, 16, 14, 12, tzinfo=SH)
    seq_before = case.seq

    early = sla.sweep(case.warn_at - US, acceptance=NEVER)
    on_time = sla.sweep(case.warn_at, acceptance=NEVER)
    again = sla.sweep(case.warn_at + dt.timedelta(minutes=5), acceptance=NEVER)

    assert (early.warned, on_time.warned, again.warned) == (0, 1, 0)
    case.refresh_from_db()
    assert case.warned_at == case.warn_at
    [warn] = events(case, "warn")
    assert (warn.seq, warn.actor_role, warn.actor_id) == (seq_before + 1, "system", None)
    assert warn.from_state == warn.to_state == "dispatched"
    assert case.seq == seq_before + 1


def test_overdue_is_flagged_once_and_a_never_warned_case_gets_no_late_warning(tiny, people):
    case = dispatched(report(tiny), people, ref(tiny.departments["S1"]))

    at_deadline = sla.sweep(case.due_at, acceptance=NEVER)  # due_at itself is not yet late
    assert at_deadline.overdue == 0 and at_deadline.warned == 1
    Case.objects.filter(pk=case.pk).update(warned_at=None)  # as if no sweep had warned it
    late = sla.sweep(case.due_at + US, acceptance=NEVER)
    later = sla.sweep(case.due_at + dt.timedelta(days=3), acceptance=NEVER)

    assert (late.overdue, late.warned) == (1, 0)
    assert (later.overdue, later.warned) == (0, 0)
    case.refresh_from_db()
    [overdue] = events(case, "overdue")
    assert overdue.payload["due_at"] == case.due_at.isoformat()
    assert case.warned_at == case.due_at + US
    assert case.seq == overdue.seq


def test_an_extended_deadline_is_warned_and_flagged_again(tiny, people):
    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    case = dispatched(report(tiny), people, ref(station))
    sla.sweep(case.due_at + US, acceptance=NEVER)
    act(case=case, user=people["staff"], kind="request_extension", reason="需调车辆",
        extension=TimeLimit(1, TimeUnit.WORKING_DAYS), now=case.due_at + US)
    case = act(case=case, user=people["duty"], kind="approve_extension", now=case.due_at + US)
    assert case.warned_at is None

    result = sla.sweep(case.due_at + US, acceptance=NEVER)

    assert result.overdue == 1
    assert len(events(case, "overdue")) == 2


# --- acceptance and escalation -------------------------------------------------------------------

def test_an_unaccepted_case_rises_one_tier_exactly_at_the_acceptance_boundary(tiny, people):
    case = report(tiny, category=None)  # 5 working days to handle; 2 working hours to accept
    noon = dt.datetime(2026, 11, 16, 12, 0, tzinfo=SH)

    before = sla.sweep(noon - US)
    at = sla.sweep(noon)

    assert (before.escalated, at.escalated) == (0, 1)
    case.refresh_from_db()
    assert (case.tier, case.state, case.escalated_at) == ("cross_department", "reported", noon)
    [ev] = events(case, "escalate")
    assert (ev.actor_role, ev.from_state, ev.to_state, ev.seq) == ("system", "reported",
                                                                   "reported", 2)
    assert ev.payload["from_tier"] == "neighbourhood"
    assert ev.payload["to_tier"] == "cross_department"
    assert ev.reason == "超时未受理"


def test_each_tier_gets_its_own_window_and_escalation_stops_at_the_top(tiny, people):
    case = report(tiny, category=None)
    noon = dt.datetime(2026, 11, 16, 12, 0, tzinfo=SH)
    sla.sweep(noon)
    # From 12:00: lunch does not count, so two working hours end at 15:00.
    three_pm = dt.datetime(2026, 11, 16, 15, 0, tzinfo=SH)

    assert sla.sweep(three_pm - US).escalated == 0
    assert sla.sweep(three_pm).escalated == 1
    assert sla.sweep(three_pm + dt.timedelta(days=2)).escalated == 0

    case.refresh_from_db()
    assert case.tier == "operations_centre"
    assert [e.payload["to_tier"] for e in events(case, "escalate")] == [
        "cross_department", "operations_centre"]


def test_a_long_forgotten_case_rises_only_one_tier_per_sweep(tiny, people):
    case = report(tiny, category=None)

    result = sla.sweep(MONDAY_10 + dt.timedelta(days=10))

    case.refresh_from_db()
    assert result.escalated == 1 and case.tier == "cross_department"


def test_an_accepted_case_is_not_escalated(tiny, people):
    case = report(tiny, category=None)
    act(case=case, user=people["duty"], kind="accept", now=MONDAY_10)

    assert sla.sweep(MONDAY_10 + dt.timedelta(days=1)).escalated == 0
    assert events(case, "escalate") == []


def test_the_acceptance_limit_is_configurable(tiny, people, monkeypatch):
    case = report(tiny, category=None)
    monkeypatch.setenv("JIAYUAN_SLA_ACCEPT_LIMIT", "30 minutes")

    assert sla.sweep(MONDAY_10 + dt.timedelta(minutes=30) - US).escalated == 0
    assert sla.sweep(MONDAY_10 + dt.timedelta(minutes=30)).escalated == 1
    case.refresh_from_db()
    assert case.tier == "cross_department"


def test_a_malformed_acceptance_limit_is_refused(monkeypatch):
    monkeypatch.setenv("JIAYUAN_SLA_ACCEPT_LIMIT", "two hours")
    with pytest.raises(ValidationFailed):
        sla.accept_limit()


# --- what the sweep leaves alone -----------------------------------------------------------------

def test_closed_merged_and_rejected_cases_are_untouched(tiny, people):
    done = closed(report(tiny), people, tiny, MONDAY_10)
    rejected = act(case=report(tiny), user=people["duty"], kind="reject", reason="不属于受理范围",
                   now=MONDAY_10)
    survivor = report(tiny)
    merged = act(case=report(tiny), user=people["duty"], kind="merge", into_case=survivor,
                 now=MONDAY_10)
    untouched = {c.pk: (c.seq, c.tier, c.warned_at) for c in (done, rejected, merged)}

    result = sla.sweep(MONDAY_10 + dt.timedelta(days=30))

    assert result.overdue == 1 and result.escalated == 1  # the survivor only
    for case in Case.objects.filter(pk__in=untouched):
        assert (case.seq, case.tier, case.warned_at) == untouched[case.pk]
    assert not CaseEvent.objects.filter(case_id__in=untouched,
                                        action__in=["warn", "overdue", "escalate"]).exists()


def test_a_naive_time_or_a_bad_batch_size_is_refused_and_changes_nothing(tiny, people):
    case = report(tiny)
    with pytest.raises(ValidationFailed):
        sla.sweep(dt.datetime(2026, 12, 1, 10, 0))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValidationFailed):
        sla.sweep(MONDAY_10 + dt.timedelta(days=3), batch_size=0)
    assert CaseEvent.objects.filter(case=case).count() == 1


# --- working time --------------------------------------------------------------------------------

def test_deadlines_across_national_day_are_respected(tiny, people):
    # Wed 30 Sep 2026 16:00; 1–7 Oct are holidays. 4 working hours: 1.5 h on the 30th, then
    # 2.5 h from Thu 8 Oct 08:30 → due 11:00; warning at 3.2 h → 10:12; accept by 09:00.
    case = report(tiny, at=dt.datetime(2026, 9, 30, 16, 0, tzinfo=SH))
    assert case.due_at.astimezone(SH) == dt.datetime(2026, 10, 8, 11, 0, tzinfo=SH)
    assert case.warn_at.astimezone(SH) == dt.datetime(2026, 10, 8, 10, 12, tzinfo=SH)

    holiday = sla.sweep(dt.datetime(2026, 10, 7, 23, 59, tzinfo=SH))
    assert holiday.acted == 0

    nine = sla.sweep(dt.datetime(2026, 10, 8, 9, 0, tzinfo=SH))
    assert (nine.escalated, nine.warned, nine.overdue) == (1, 0, 0)
    warn = sla.sweep(dt.datetime(2026, 10, 8, 10, 12, tzinfo=SH))
    assert (warn.escalated, warn.warned, warn.overdue) == (0, 1, 0)
    # Past due at 11:00, when the second tier's two hours (from 09:00) are up as well.
    late = sla.sweep(dt.datetime(2026, 10, 8, 11, 0, tzinfo=SH) + US)
    assert (late.escalated, late.warned, late.overdue) == (1, 0, 1)


def test_latest_start_matches_the_intake_deadline_over_a_holiday(db):  # the calendar is data
    limit = TimeLimit(2, TimeUnit.WORKING_HOURS)
    # On Thu 8 Oct 09:00 two working hours are up for cases reported by 30 Sep 16:00
    # (1.5 h that afternoon, 0.5 h on the 8th); the golden week counts for nothing.
    cutoff = sla.latest_start(dt.datetime(2026, 10, 8, 9, 0, tzinfo=SH), limit)
    assert cutoff == dt.datetime(2026, 9, 30, 16, 0, tzinfo=SH)
    # A weekend report starts counting on Monday 08:30, so at Monday 10:30 every case
    # reported by Monday 08:30 (Saturday's included) is up.
    cutoff = sla.latest_start(dt.datetime(2026, 11, 16, 10, 30, tzinfo=SH), limit)
    assert cutoff == dt.datetime(2026, 11, 16, 8, 30, tzinfo=SH)


# --- who is told -----------------------------------------------------------------------------------

def test_a_warning_notifies_the_lead_departments_staff_only(tiny, people,
                                                             django_capture_on_commit_callbacks):
    case = dispatched(report(tiny), people, ref(tiny.departments["S1"]))
    LoggingBackend.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        result = sla.sweep(case.warn_at, acceptance=NEVER)

    notified = set(Notification.objects.filter(case=case).values_list("user__username",
                                                                         "kind"))
    assert notified == {("police", "case_warning"), ("liaison", "case_warning")}
    assert result.notified == 2
    # SMS only where there is a phone (the liaison has none).
    assert [(to, kind) for to, _, kind in LoggingBackend.sent] == [("13800000003",
                                                                    "case_warning")]
    assert case.number in LoggingBackend.sent[0][1]


def test_an_unassigned_case_warns_its_neighbourhood_station_staff(tiny, people):
    case = report(tiny)

    sla.sweep(case.warn_at, acceptance=NEVER)

    assert list(Notification.objects.filter(case=case).values_list("user__username",
                                                                     flat=True)) == ["staff"]


def test_an_escalated_case_notifies_the_new_tiers_unit(tiny, people):
    case = report(tiny, category=None)

    sla.sweep(dt.datetime(2026, 11, 16, 12, 0, tzinfo=SH))

    # No department kind for an uncategorised case: the subdistrict's operations centre takes it.
    assert set(Notification.objects.filter(case=case).values_list("user__username", "kind")) \
        == {("duty", "case_escalated")}


def test_overdue_notifies_the_lead_station(tiny, people):
    station = JointStation.objects.get(neighbourhood=tiny.neighbourhoods["S1N1"])
    case = dispatched(report(tiny), people, ref(station))

    sla.sweep(case.due_at + US, acceptance=NEVER)

    assert list(Notification.objects.filter(case=case, kind="case_overdue")
                .values_list("user__username", flat=True)) == ["staff"]


# --- revisit questionnaire -------------------------------------------------------------------------

def test_the_questionnaire_goes_once_four_weeks_after_closure(
        tiny, people, django_capture_on_commit_callbacks):
    case = closed(report(tiny, reporter_phone="13900000009"), people, tiny, MONDAY_10)
    recent = closed(report(tiny), people, tiny, MONDAY_10 + dt.timedelta(days=2))
    four_weeks = MONDAY_10 + dt.timedelta(days=28)
    LoggingBackend.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        early = sla.schedule_revisits(four_weeks - US)
        sent = sla.schedule_revisits(four_weeks)
        again = sla.schedule_revisits(four_weeks + dt.timedelta(days=1))

    assert (early, sent, again) == (0, 1, 0)
    case.refresh_from_db()
    recent.refresh_from_db()
    assert case.questionnaire_sent_at == four_weeks and recent.questionnaire_sent_at is None
    assert [(to, kind) for to, _, kind in LoggingBackend.sent] == [("13900000009",
                                                                    "case_questionnaire")]


def test_the_questionnaire_delay_is_configurable(tiny, people, monkeypatch):
    closed(report(tiny), people, tiny, MONDAY_10)
    monkeypatch.setenv("JIAYUAN_QUESTIONNAIRE_DAYS", "7")

    assert sla.schedule_revisits(MONDAY_10 + dt.timedelta(days=7)) == 1


def test_open_cases_get_no_questionnaire(tiny, people):
    report(tiny)
    assert sla.schedule_revisits(MONDAY_10 + dt.timedelta(days=60)) == 0


# --- the periodic job --------------------------------------------------------------------------------

def test_the_sweep_is_registered_to_run_every_minute():
    from jiayuan.cases import tasks
    from jiayuan.core.periodic import registered

    jobs = {job.name: job for job in registered()}
    assert jobs["cases.sla_sweep"].every == dt.timedelta(minutes=1)
    assert jobs["cases.sla_sweep"].task is tasks.sla_sweep
    assert "cases.revisit_questionnaires" in jobs


# --- two workers ---------------------------------------------------------------------------------

@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_act_on_each_case_exactly_once(tiny):
    cases = [report(tiny, category=None, where=key)
             for key in tiny.entrances for _ in range(20)]
    now = cases[0].warn_at + dt.timedelta(minutes=1)  # every case due a warning and escalation
    start = threading.Barrier(2)
    results: list[sla.SweepResult] = []
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connection as conn

        try:
            start.wait()
            results.append(sla.sweep(now, batch_size=7))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    n = len(cases)
    assert sum(r.warned for r in results) == n and sum(r.escalated for r in results) == n
    for action in ("warn", "escalate"):
        per_case = CaseEvent.objects.filter(action=action).values_list("case_id", flat=True)
        assert sorted(per_case) == sorted(c.pk for c in cases)
    assert set(Case.objects.values_list("tier", "seq")) == {("cross_department", 3)}
