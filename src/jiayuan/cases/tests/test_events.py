"""The history's one writer: ``record`` and ``record_many`` append rows, tell the observers
after commit, in order, and refuse bad steps writing nothing; stored rows never change."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from jiayuan.cases import events, hooks
from jiayuan.cases.errors import HistoryIsAppendOnly
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.cases.services import open_case
from jiayuan.core.errors import ValidationFailed

SH = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 11, 16, 10, 0, tzinfo=SH)


@pytest.fixture
def seen():
    got: list[tuple[int, str, int, dict]] = []

    def observer(case, event):
        got.append((case.pk, event.action, event.seq, event.payload))

    hooks.subscribe("test.events", observer)
    yield got
    hooks._observers.pop("test.events", None)


def _case(source_ref: str = "test.events:1") -> Case:
    case, _ = open_case(channel="council", description="楼道堆物", route=False,
                        source_ref=source_ref)
    return case


def _next(case: Case, action: str = "note", **payload) -> events.Step:
    case.seq += 1
    Case.objects.filter(pk=case.pk).update(seq=case.seq)
    return events.step(case, seq=case.seq, at=AT, action=action, from_state=case.state,
                       to_state=case.state, actor_role="system", payload=payload)


def test_record_appends_one_row_and_tells_the_observers_after_commit(
        tiny, seen, django_capture_on_commit_callbacks):
    case = _case()
    seen.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = events.record(case=case, seq=2, at=AT, action="note", from_state="reported",
                              to_state="reported", actor_role="system", reason="已知悉",
                              payload={"k": 1})
    assert seen == [] and len(callbacks) == 1
    callbacks[0]()
    assert seen == [(case.pk, "note", 2, {"k": 1})]
    stored = CaseEvent.objects.get(pk=event.pk)
    assert (stored.seq, stored.reason, stored.payload, stored.actor_id) == (2, "已知悉",
                                                                           {"k": 1}, None)


def test_record_many_writes_every_step_and_the_observers_hear_them_in_order(
        tiny, seen, django_capture_on_commit_callbacks):
    watched, unwatched = _case(), _case(source_ref="nobody.listens:1")
    seen.clear()
    steps = [_next(watched, "warn", n=1), _next(unwatched, "warn"), _next(watched, "overdue")]
    with django_capture_on_commit_callbacks(execute=True):
        events.record_many(steps)
    assert [(a, s, p) for _, a, s, p in seen] == [("warn", 2, {"n": 1}), ("overdue", 3, {})]
    assert list(CaseEvent.objects.filter(case=unwatched).values_list("action", flat=True)) == [
        "report", "warn"]


def test_a_case_nobody_watches_costs_no_callback(tiny, django_capture_on_commit_callbacks):
    case = _case(source_ref="")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        events.record_many([_next(case)])
        events.record_many([])
    assert callbacks == []
    assert CaseEvent.objects.filter(case=case).count() == 2


@pytest.mark.parametrize("bad", [{"seq": 0}, {"seq": True}, {"at": dt.datetime(2026, 11, 16)},
                                 {"action": ""}])
def test_a_bad_step_is_refused_and_writes_nothing(tiny, bad):
    case = _case()
    args = {"seq": 2, "at": AT, "action": "note", "from_state": "reported",
            "to_state": "reported", "actor_role": "system", **bad}
    with pytest.raises(ValidationFailed):
        events.record(case=case, **args)
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_seq_the_case_already_has_is_refused_and_the_batch_writes_nothing(tiny):
    case = _case()
    fresh = _next(case)
    clash = fresh._replace(seq=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        events.record_many([fresh, clash])
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stored_event_refuses_every_kind_of_update(tiny):
    case = _case()
    event = CaseEvent.objects.get(case=case)
    with pytest.raises(HistoryIsAppendOnly):
        event.save()
    with pytest.raises(HistoryIsAppendOnly):
        event.save(force_update=True)
    with pytest.raises(HistoryIsAppendOnly):
        CaseEvent.objects.all().update(reason="x")
    with pytest.raises(TypeError):
        CaseEvent(case=case, seq=9, at=AT, actor_role="system", action="note",
                  to_state="reported").save(False)
    assert CaseEvent.objects.get(pk=event.pk).reason == ""
