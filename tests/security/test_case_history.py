"""#12 item 13: a case's history has one writer. Every step — the report and routing at
intake (one case or a batch), a person's action, a note, the SLA sweep's warning, overdue flag
and escalation — reaches the case's observers after commit; an event row is never updated;
merge, Open311 and import write their event's payload once, complete."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from jiayuan.cases import hooks, sla
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services import act, open_case
from jiayuan.cases.services.duplicates import merge_cases
from jiayuan.cases.services.intake import intake_batch
from jiayuan.cases.services.routing import route_new_case
from jiayuan.cases.workdays import TimeLimit, TimeUnit
from jiayuan.core.errors import DomainError
from jiayuan.council.models import Comment, TopicStatus
from jiayuan.council.services.escalation import escalate_topic
from jiayuan.council.services.topics import create_council, raise_topic

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)
INSIDE = {"lng": 121.425, "lat": 31.15}  # compound S1N1C1 of the tiny district
EVENT_TABLE = CaseEvent._meta.db_table
NEVER = TimeLimit(60, TimeUnit.WORKING_DAYS)  # an acceptance limit no case here reaches


@pytest.fixture
def heard():
    """An observer of ``trust.probe:<n>`` cases: what it heard, as (ref, action, seq)."""
    got: list[tuple[str, str, int]] = []

    def observer(case, event):
        assert event.pk is not None and event.case_id == case.pk  # a stored row
        got.append((case.source_ref, event.action, event.seq))

    hooks.subscribe("trust.probe", observer)
    yield got
    hooks._observers.pop("trust.probe", None)


def updates_of_events(queries) -> list[str]:
    return [q["sql"] for q in queries
            if q["sql"].lstrip().upper().startswith("UPDATE")
            and EVENT_TABLE in q["sql"]]


# --- the SLA sweep tells the observers -----------------------------------------------------------

def test_the_council_topic_hears_the_sla_sweeps_escalation(
        tiny, make_user, django_capture_on_commit_callbacks):
    council = create_council(tiny.neighbourhoods["S1N1"])
    topic, _ = raise_topic(council, title="楼道堆物", raiser_name="陈阿姨",
                           entrance=tiny.entrances["S1N1C1"])
    # A case the council follows (source council.topic:<id>) below the top tier, unaccepted.
    case, _ = open_case(channel="council", description="楼道堆物影响通行", category_code="06010",
                        entrance=tiny.entrances["S1N1C1"], reported_at=MONDAY_10,
                        source_ref=f"council.topic:{topic.pk}", route=False)
    assert case.tier != sla.TOP_TIER
    with django_capture_on_commit_callbacks(execute=True):
        result = sla.sweep(MONDAY_10 + dt.timedelta(days=1))
    assert result.escalated == 1
    case.refresh_from_db()
    escalation = CaseEvent.objects.get(case=case, action="escalate")
    thread = list(Comment.objects.filter(topic=topic, kind=Comment.Kind.CASE)
                  .values_list("body", flat=True))
    assert any(case.number in b and "已升级" in b and escalation.reason in b for b in thread)


def test_an_escalated_topic_hears_its_case_flagged_overdue_by_the_sweep(
        tiny, make_user, django_capture_on_commit_callbacks):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    council = create_council(tiny.neighbourhoods["S1N1"])
    topic, _ = raise_topic(council, title="加装电梯协调不成", raiser_name="陈阿姨",
                           entrance=tiny.entrances["S1N1C1"])
    with django_capture_on_commit_callbacks(execute=True):
        topic = escalate_topic(topic, actor=staff)
    case = topic.case
    before = Comment.objects.filter(topic=topic, kind=Comment.Kind.CASE).count()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla.sweep(case.due_at + dt.timedelta(minutes=1)).overdue == 1
    thread = list(Comment.objects.filter(topic=topic, kind=Comment.Kind.CASE)
                  .values_list("body", flat=True))
    assert len(thread) == before + 1 and "已超过处置时限" in thread[-1]
    topic.refresh_from_db()
    assert topic.status == TopicStatus.ESCALATED


@pytest.mark.django_db(transaction=True)
def test_every_sweep_step_reaches_the_observers_after_commit(tiny, heard):
    case, _ = open_case(channel="sensor", description="路面暴露垃圾", category_code="06010",
                        entrance=tiny.entrances["S1N1C1"], reported_at=MONDAY_10,
                        source_ref="trust.probe:1", route=False)
    heard.clear()
    sla.sweep(case.warn_at, acceptance=NEVER)  # the warning alone
    sla.sweep(MONDAY_10 + dt.timedelta(days=1))  # overdue, and escalated one tier
    actions = [a for _, a, _ in heard]
    assert actions == ["warn", "overdue", "escalate"]
    assert [s for _, _, s in heard] == sorted(
        CaseEvent.objects.filter(case=case).exclude(action="report")
        .values_list("seq", flat=True))


# --- routing tells the observers -----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_routing_a_new_case_reaches_the_observers(tiny, heard):
    case, _ = open_case(channel="council", description="路灯不亮", route=False, **INSIDE,
                        source_ref="trust.probe:2")
    route_new_case(case)
    assert heard == [("trust.probe:2", "report", 1), ("trust.probe:2", "route", 2)]


@pytest.mark.django_db(transaction=True)
def test_intake_routing_and_the_batch_path_reach_the_observers(tiny, heard):
    one, _ = open_case(channel="council", description="垃圾房异味", **INSIDE,
                       source_ref="trust.probe:3")
    assert heard == [("trust.probe:3", "report", 1), ("trust.probe:3", "route", 2)]
    heard.clear()
    texts = ["井盖缺失", "路面坑洼"]
    with transaction.atomic(), intake_batch(texts=texts):
        cases = [open_case(channel="council", description=t, **INSIDE,
                           source_ref=f"trust.probe:{10 + i}")[0] for i, t in enumerate(texts)]
        assert heard == []  # nothing before commit
    assert heard == [("trust.probe:10", "report", 1), ("trust.probe:10", "route", 2),
                     ("trust.probe:11", "report", 1), ("trust.probe:11", "route", 2)]
    assert all(c.seq == 2 for c in Case.objects.filter(pk__in=[c.pk for c in cases]))


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_rolls_back_is_never_heard_of(tiny, heard):
    with pytest.raises(RuntimeError), transaction.atomic(), intake_batch(texts=["井盖缺失"]):
        open_case(channel="council", description="井盖缺失", **INSIDE,
                  source_ref="trust.probe:20")
        raise RuntimeError
    assert heard == [] and not Case.objects.exists() and not CaseEvent.objects.exists()


# --- an event row is never updated ---------------------------------------------------------------

def test_an_event_row_cannot_be_updated(tiny, make_user):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    case, _ = open_case(channel="council", description="路灯不亮", **INSIDE)
    act(case=case, user=staff, kind="accept", reason="收到")
    event = CaseEvent.objects.get(case=case, action="accept")
    stored = list(CaseEvent.objects.filter(case=case).values_list("seq", "action", "reason",
                                                                  "payload"))
    event.reason = "改写"
    attempts = [
        lambda: event.save(),
        lambda: event.save(update_fields=["reason"]),
        lambda: CaseEvent.objects.filter(pk=event.pk).update(reason="改写"),
        lambda: case.events.update(payload={}),
        lambda: CaseEvent.objects.bulk_update([event], ["reason"]),
        lambda: CaseEvent.objects.update_or_create(pk=event.pk, defaults={"reason": "改写"}),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as refused:  # cases.errors.HistoryIsAppendOnly
            attempt()
        assert refused.value.code == "history_append_only" and refused.value.status == 409
    assert list(CaseEvent.objects.filter(case=case).values_list(
        "seq", "action", "reason", "payload")) == stored


# --- merge, Open311 and import write the final payload once --------------------------------------

def test_merge_writes_its_event_once_with_the_follower(tiny, make_user):
    staff = make_user("staff", "neighbourhood_staff", tiny.neighbourhoods["S1N1"])
    survivor, _ = open_case(channel="council", description="路灯不亮", **INSIDE)
    duplicate, _ = open_case(channel="home_code", description="路灯坏了", **INSIDE,
                             reporter_name="张三", reporter_phone="13900000000")
    with CaptureQueriesContext(connection) as queries:
        merged = merge_cases(user=staff, duplicate=duplicate, survivor=survivor)
    assert updates_of_events(queries.captured_queries) == []
    event = CaseEvent.objects.get(case=merged, action="merge")
    assert event.payload["into_case"] == str(survivor.pk)
    assert event.payload["into_number"] == survivor.number
    assert event.payload["follower"] == {"case": duplicate.number, "reporter_id": None,
                                         "has_contact": True}


def test_open311_writes_its_report_event_once_with_the_request_details(tiny):
    from jiayuan.open311.services import Submission, submit_request

    sub = Submission(service_code="06013", lat="31.15", long="121.425",
                     description="人行道上有个大坑", email="resident@example.cn",
                     attributes={"damage_size": ["medium"]})
    with CaptureQueriesContext(connection) as queries:
        case, created = submit_request(sub, key_id="k1")
    assert created and updates_of_events(queries.captured_queries) == []
    payload = CaseEvent.objects.get(case=case, seq=1).payload
    assert payload["channel"] == "open311"
    assert payload["open311"] == {"attributes": {"damage_size": "medium"},
                                  "reporter_email": "resident@example.cn", "api_key_id": "k1"}


def test_a_12345_import_writes_its_report_events_once_with_the_source_row(tiny, tmp_path):
    import csv

    from jiayuan.cases.importing import import_work_orders

    path = tmp_path / "orders.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["工单编号", "受理时间", "诉求内容", "经度", "纬度", "诉求类型", "承办单位"])
        w.writerow(["G-1", "2026-11-16 10:00:00", "路灯不亮", "121.425", "31.15", "投诉",
                    "市政所"])
    with CaptureQueriesContext(connection) as queries:
        result = import_work_orders(path)
    assert result.created == 1 and updates_of_events(queries.captured_queries) == []
    payload = CaseEvent.objects.get(case__external_id="G-1", seq=1).payload
    assert (payload["import"], payload["row"], payload["request_type"],
            payload["handling_unit"]) == ("orders.csv", 2, "complaint", "市政所")


def test_a_home_code_report_writes_the_residents_consent_into_its_report_event_once(tiny):
    from jiayuan.cases.services.attachments import report_from_home_code

    with CaptureQueriesContext(connection) as queries:
        case, created = report_from_home_code(
            entrance=tiny.entrances["S1N1C1"], description="楼道灯坏了", **INSIDE,
            exact_position_public=True)
    assert created and updates_of_events(queries.captured_queries) == []
    assert case.events.get(seq=1).payload["consent"] == {"exact_position_public": True}
