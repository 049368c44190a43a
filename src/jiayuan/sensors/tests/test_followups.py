"""Alarm follow-ups after the commit: alarms read together, cases opened together
(``intake_batch``) with a one-by-one fallback, clears noted without loading the case."""

from __future__ import annotations

import pytest

from jiayuan.cases.models import Case, CaseEvent
from jiayuan.sensors.models import Alarm, AlarmState
from jiayuan.sensors.pipeline import Pipeline
from jiayuan.sensors.services import alarms as alarm_services
from jiayuan.sensors.services.alarms import BATCH_OPEN_MIN, FollowUp, follow_up
from jiayuan.sensors.tests.django_support import Clock, make_device, message

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_categories():
    # the categories a process installed are remembered; each test has a fresh database
    from jiayuan.sensors.services.categories import forget_installed

    forget_installed()


@pytest.fixture
def clock():
    return Clock()


def _panic_buttons(tiny, n):
    return [make_device(tiny, f"PB-{i}", "panic_button") for i in range(n)]


def _press_all(p, clock, n, at=-60, msg="p"):
    return p.process([message(f"PB-{i}", clock.at(at), {"pressed": 1}, msg_id=f"{msg}{i}")
                      for i in range(n)])


def test_alarms_raised_together_each_get_exactly_one_case(tiny, clock, monkeypatch):
    # given more panic buttons pressed in one batch than the batch-opening threshold
    n = BATCH_OPEN_MIN + 2
    _panic_buttons(tiny, n)
    p = Pipeline(clock=clock)
    real, opened_together = alarm_services._open_batch, []

    def spy(alarms):
        real(alarms)
        opened_together.append(len(alarms))

    monkeypatch.setattr(alarm_services, "_open_batch", spy)
    # when the batch is processed (follow-ups run after its commit)
    res = _press_all(p, clock, n)
    assert opened_together == [n]
    # then each alarm has its own case, opened once, linked both ways
    assert len(res.raised) == n
    alarms = list(Alarm.objects.filter(pk__in=res.raised).select_related("case", "device"))
    assert all(a.case is not None for a in alarms)
    assert len({a.case_id for a in alarms}) == n
    for a in alarms:
        assert a.case.source_ref == f"sensors.alarm:{a.pk}"
        assert a.case.idempotency_key == f"sensors.alarm:{a.pk}"
        assert a.case.category.code == "S-panic"
        assert a.case.entrance_id == a.device.entrance_id
        assert a.case.number.startswith("JY")
        assert CaseEvent.objects.filter(case=a.case, action="report").count() == 1
    # and following up the same alarms again opens nothing more
    follow_up([FollowUp("open", pk) for pk in res.raised])
    assert Case.objects.filter(source_ref__startswith="sensors.alarm:").count() == n


def test_a_failing_batch_opening_falls_back_to_one_by_one(tiny, clock, monkeypatch):
    n = BATCH_OPEN_MIN + 1
    _panic_buttons(tiny, n)

    def broken(alarms):
        raise RuntimeError("batch intake broke")

    monkeypatch.setattr(alarm_services, "_open_batch", broken)
    res = _press_all(Pipeline(clock=clock), clock, n)
    cases = Alarm.objects.filter(pk__in=res.raised).values_list("case_id", flat=True)
    assert None not in cases and len(set(cases)) == n
    assert Case.objects.filter(source_ref__startswith="sensors.alarm:").count() == n


def test_a_batch_that_fails_midway_keeps_nothing_of_it(tiny, clock, monkeypatch):
    # the batch is one transaction: an error after some cases were opened in it leaves no
    # half of it behind, and the one-by-one fallback opens each case once
    from jiayuan.cases.services import intake

    n = BATCH_OPEN_MIN
    _panic_buttons(tiny, n)
    real = intake.open_case
    in_batch: list[str] = []
    failed: list[str] = []

    def flaky(**kw):
        # the third case of the batch fails, after two were opened in it
        if intake._pending.get() is not None:
            in_batch.append(kw["idempotency_key"])
            if len(in_batch) == 3:
                failed.append(kw["idempotency_key"])
                raise RuntimeError("boom in the middle of the batch")
        return real(**kw)

    monkeypatch.setattr("jiayuan.cases.services.open_case", flaky)
    res = _press_all(Pipeline(clock=clock), clock, n)
    assert failed, "the batch did not fail"
    alarms = list(Alarm.objects.filter(pk__in=res.raised))
    assert all(a.case_id is not None for a in alarms)
    assert Case.objects.filter(source_ref__startswith="sensors.alarm:").count() == n
    assert len({a.case_id for a in alarms}) == n


def test_clears_of_batched_alarms_are_noted_once_each(tiny, clock):
    n = BATCH_OPEN_MIN
    _panic_buttons(tiny, n)
    p = Pipeline(clock=clock)
    raised = _press_all(p, clock, n).raised
    p.process([message(f"PB-{i}", clock.at(-30), {"pressed": 0}, msg_id=f"r{i}")
               for i in range(n)])
    for a in Alarm.objects.filter(pk__in=raised):
        assert a.state == AlarmState.CLEARED
        notes = list(CaseEvent.objects.filter(case_id=a.case_id, action="note"))
        assert len(notes) == 1 and "报警已解除" in notes[0].reason
        case = Case.objects.get(pk=a.case_id)
        assert case.seq == max(CaseEvent.objects.filter(case=case).values_list("seq", flat=True))


def test_a_cleared_alarm_without_a_case_gets_one_then_its_note(tiny, clock):
    make_device(tiny, "PB-X", "panic_button")
    p = Pipeline(clock=clock)
    p.process([message("PB-X", clock.at(-60), {"pressed": 1}, msg_id="a")])
    alarm = Alarm.objects.get()
    first = alarm.case_id
    # a worker died between opening the case and linking it to the alarm
    Alarm.objects.filter(pk=alarm.pk).update(case=None)
    p.process([message("PB-X", clock.at(-30), {"pressed": 0}, msg_id="b")])
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED and alarm.case_id == first
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(case_id=first, action="note").count() == 1


def test_a_note_by_id_moves_the_case_on_and_tells_its_observers(
        tiny, monkeypatch, django_capture_on_commit_callbacks):
    from jiayuan.cases import hooks
    from jiayuan.cases.services import open_case
    from jiayuan.cases.services.notes import add_note_by_id

    case, _ = open_case(channel="sensor", description="测试", source_ref="test.notes:1")
    seen = []
    monkeypatch.setitem(hooks._observers, "test.notes",
                        [lambda c, e: seen.append((c.pk, c.source_ref, e.seq))])
    seq = Case.objects.get(pk=case.pk).seq
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = add_note_by_id(case.pk, text="  报警已解除  ", payload={"x": 1})
    assert (event.seq, event.reason, event.action) == (seq + 1, "报警已解除", "note")
    assert Case.objects.get(pk=case.pk).seq == seq + 1
    assert seen == [(case.pk, "test.notes:1", seq + 1)]
    with pytest.raises(Case.DoesNotExist):
        add_note_by_id(10**9, text="x")


# --- the alarm rows of a batch (record_batch) ---------------------------------------------------

def test_raise_clear_and_raise_again_in_one_batch_keep_two_episodes(tiny, clock):
    # given a panic button pressed, released and pressed again within one batch
    make_device(tiny, "PB-F", "panic_button")
    p = Pipeline(clock=clock)
    res = p.process([message("PB-F", clock.at(-90), {"pressed": 1}, msg_id="a"),
                     message("PB-F", clock.at(-80), {"pressed": 0}, msg_id="b"),
                     message("PB-F", clock.at(-70), {"pressed": 1}, msg_id="c")])
    # then two alarm episodes: the first cleared, the second open, each with one case
    first, second = Alarm.objects.filter(device__code="PB-F").order_by("raised_at")
    assert first.state == AlarmState.CLEARED and "cleared" in first.payload
    assert second.state == AlarmState.ACTIVE
    assert res.raised == [first.pk, second.pk]
    assert [f.action for f in res.followups] == ["open", "clear", "open"]
    assert first.case_id and second.case_id and first.case_id != second.case_id
    assert CaseEvent.objects.filter(case_id=first.case_id, action="note").count() == 1


def test_events_of_several_devices_in_one_batch_update_open_alarms_once_each(tiny, clock):
    make_device(tiny, "SHED-A", "ebike_shed")
    make_device(tiny, "SHED-B", "ebike_shed")
    p = Pipeline(clock=clock)
    p.process([message(c, clock.at(-600), {"temperature_c": 71}, msg_id=f"{c}1")
               for c in ("SHED-A", "SHED-B")])
    # worse, worse again, then the temperature drops: one batch
    p.process([m for c in ("SHED-A", "SHED-B") for m in (
        message(c, clock.at(-500), {"temperature_c": 75}, msg_id=f"{c}2"),
        message(c, clock.at(-400), {"temperature_c": 78}, msg_id=f"{c}3"),
        message(c, clock.at(-300), {"temperature_c": 30}, msg_id=f"{c}4"))])
    for code in ("SHED-A", "SHED-B"):
        alarm = Alarm.objects.get(device__code=code, rule_id__endswith="overheat")
        assert alarm.state == AlarmState.CLEARED
        assert (alarm.peak, alarm.count) == (78, 3)
        assert [u["value"] for u in alarm.payload["updates"]] == [75, 78]
        assert alarm.payload["cleared"]["value"] == 30


def test_an_alarm_raised_meanwhile_by_another_worker_is_updated_not_raised_twice(
        tiny, clock, monkeypatch):
    from jiayuan.sensors.services.alarms import record_batch

    device = make_device(tiny, "PB-R", "panic_button")
    p = Pipeline(clock=clock)
    p.process([message("PB-R", clock.at(-100), {"pressed": 0}, msg_id="0")])
    ref = p.devices["PB-R"].ref
    from jiayuan.sensors.messages import Reading as R
    from jiayuan.sensors.rules.catalogue import rule_set_for
    from jiayuan.sensors.rules.engine import evaluate, new_state

    _, events = evaluate(new_state("PB-R"), R("310115", "PB-R", "x", clock.at(-50),
                                                {"pressed": 1.0}),
                         rule_set_for("panic_button"), clock())
    assert [e.action.value for e in events] == ["raise"]
    real = alarm_services._new_alarm

    def other_worker_first(device_ref, e):
        # the other worker's raise commits after this batch read the open alarms
        monkeypatch.setattr(alarm_services, "_new_alarm", real)
        Alarm.objects.create(device=device, rule_id=e.rule_id, title="t", severity="Severe",
                             message="m", raised_at=clock.at(-55))
        return real(device_ref, e)

    monkeypatch.setattr(alarm_services, "_new_alarm", other_worker_first)
    followups = record_batch([(ref, events, ())])
    assert followups == []  # not raised again: the other worker's alarm was updated
    alarm = Alarm.objects.get(device=device)
    assert alarm.count == 2 and alarm.state == AlarmState.ACTIVE
