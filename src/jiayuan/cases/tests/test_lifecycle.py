"""The case state machine: the table, the guards, who may act, and the history it writes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import event as note_event
from hypothesis import given, settings
from hypothesis import strategies as st

from jiayuan.cases.lifecycle import (
    ACTION_LABELS,
    RULES,
    STATE_LABELS,
    TERMINAL_STATES,
    Action,
    ActionKind,
    Actor,
    CaseEvent,
    CaseSnapshot,
    Field,
    Rating,
    Role,
    State,
    Tier,
    allowed_actions,
    apply,
)
from jiayuan.cases.workdays import SHANGHAI, TimeLimit, TimeUnit
from jiayuan.core.errors import DomainError, Forbidden, InvalidTransition, ValidationFailed

NOW = dt.datetime(2025, 11, 10, 9, 30, tzinfo=SHANGHAI)
UNIT = "310115004-cg"  # the lead unit every assignee in these tests belongs to
REPORTER = "resident-1"


def full_action(kind: ActionKind) -> Action:
    """An action carrying every field any rule may require."""
    return Action(
        kind,
        reason="现场核实",
        lead_unit=UNIT,
        assisting_units=("310115004-pcs",),
        rating=Rating.SATISFIED,
        into_case="C-0001",
        extension=TimeLimit(2, TimeUnit.WORKING_DAYS),
    )


def actor_as(role: Role, unit: str | None = UNIT) -> Actor:
    return Actor(REPORTER if role is Role.RESIDENT else f"{role.value}-1", role, unit)


def case_in(state: State, kind: ActionKind | None = None, **more: object) -> CaseSnapshot:
    """A case in ``state`` that passes the guards of ``kind``."""
    pending = (
        TimeLimit(2, TimeUnit.WORKING_DAYS)
        if kind in (ActionKind.APPROVE_EXTENSION, ActionKind.REFUSE_EXTENSION) else None
    )
    rating = Rating.DISSATISFIED if state is State.RATED else None
    case = CaseSnapshot(
        case_id="C-0042", state=state, reporter_id=REPORTER, lead_unit=UNIT,
        extension_pending=pending, rating=rating, seq=3,
    )
    return dataclasses.replace(case, **more)  # type: ignore[arg-type]


ALLOWED = [
    (kind, state, role)
    for kind, rule in RULES.items()
    for state in sorted(rule.from_states)
    for role in sorted(rule.roles)
]
DISALLOWED = [
    (kind, state) for kind in ActionKind for state in State if state not in RULES[kind].from_states
]
FORBIDDEN_ROLES = [
    (kind, role) for kind, rule in RULES.items() for role in Role if role not in rule.roles
]


# --- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "state", "role"), ALLOWED)
def test_every_allowed_transition_reaches_the_tables_state(kind, state, role):
    # given a case in a from-state of the rule, and an actor of an allowed role
    case = case_in(state, kind)
    # when the action is applied with its fields
    result = apply(case, full_action(kind), actor_as(role), NOW)
    # then the case lands where the table says and one event records it
    expected = RULES[kind].to_state or state
    assert result.snapshot.state is expected
    assert result.event.from_state is state and result.event.to_state is expected
    assert result.event.action is kind and result.event.actor_role is role
    assert result.event.seq == case.seq + 1 == result.snapshot.seq
    assert result.event.at == NOW


@pytest.mark.parametrize(("kind", "state"), DISALLOWED)
def test_every_disallowed_pair_is_refused_naming_state_and_action(kind, state):
    case = case_in(state, kind)
    role = sorted(RULES[kind].roles)[0]
    with pytest.raises(InvalidTransition) as info:
        apply(case, full_action(kind), actor_as(role), NOW)
    assert info.value.code == "invalid_transition"
    assert f"「{STATE_LABELS[state]}」" in info.value.message
    assert f"「{ACTION_LABELS[kind]}」" in info.value.message


def test_dispatch_on_closed_case_message_reads_as_the_practice_says():
    with pytest.raises(InvalidTransition) as info:
        apply(case_in(State.CLOSED), full_action(ActionKind.DISPATCH),
              actor_as(Role.DUTY_OFFICER), NOW)
    assert info.value.message == "工单当前状态为「已结案」，不能执行「派遣」"


@pytest.mark.parametrize(("kind", "role"), FORBIDDEN_ROLES)
def test_roles_outside_the_table_are_forbidden(kind, role):
    state = sorted(RULES[kind].from_states)[0]
    with pytest.raises(Forbidden):
        apply(case_in(state, kind), full_action(kind), actor_as(role), NOW)


def test_merged_and_rejected_are_terminal():
    for state in TERMINAL_STATES:
        assert allowed_actions(case_in(state)) == frozenset()


@pytest.mark.parametrize(
    ("kind", "missing"),
    [(kind, name) for kind, rule in RULES.items() for name in sorted(rule.required)],
)
def test_required_fields_are_enforced(kind, missing):
    state = sorted(RULES[kind].from_states)[0]
    role = sorted(RULES[kind].roles)[0]
    blank = {"reason": "   ", "lead_unit": None, "rating": None, "into_case": "",
             "extension": None}
    action = dataclasses.replace(full_action(kind), **{missing.value: blank[missing.value]})
    with pytest.raises(ValidationFailed) as info:
        apply(case_in(state, kind), action, actor_as(role), NOW)
    assert info.value.details["field"] == missing.value


def test_return_without_a_reason_is_refused_in_chinese():
    action = Action(ActionKind.RETURN)
    with pytest.raises(ValidationFailed) as info:
        apply(case_in(State.DISPATCHED), action, actor_as(Role.DEPARTMENT_STAFF), NOW)
    assert info.value.message == "执行「退单」必须填写原因或说明"


def test_rating_must_be_one_of_the_three_answers():
    with pytest.raises(ValidationFailed):
        Action(ActionKind.RATE, rating="very_happy")  # type: ignore[arg-type]
    result = apply(case_in(State.CLOSED), Action(ActionKind.RATE, rating="basically_satisfied"),  # type: ignore[arg-type]
                   actor_as(Role.RESIDENT), NOW)
    assert result.snapshot.rating is Rating.BASICALLY_SATISFIED
    assert result.event.payload["rating"] == "basically_satisfied"


def test_the_table_matches_the_documented_loop():
    # a change to the table must be deliberate: this is the diagram in docs/case-lifecycle.md
    r, a, d, t, h, v, c, rt = (State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.RETURNED,
                               State.HANDLED, State.VERIFIED, State.CLOSED, State.RATED)
    expected = {
        ActionKind.ACCEPT: ({r}, a), ActionKind.REJECT: ({r}, State.REJECTED),
        ActionKind.DISPATCH: ({a}, d), ActionKind.RETURN: ({d}, t),
        ActionKind.REDISPATCH: ({t}, d), ActionKind.REQUEST_EXTENSION: ({d}, None),
        ActionKind.APPROVE_EXTENSION: ({d}, None), ActionKind.REFUSE_EXTENSION: ({d}, None),
        ActionKind.HANDLE: ({d}, h), ActionKind.VERIFY_OK: ({h}, v),
        ActionKind.VERIFY_FAILED: ({h}, d), ActionKind.CLOSE: ({v}, c),
        ActionKind.RATE: ({c}, rt), ActionKind.REOPEN: ({c, rt}, a),
        ActionKind.SUPERVISE: ({r, a, d, t, h, v}, None), ActionKind.ESCALATE: ({r}, None),
        ActionKind.MERGE: ({r, a, t}, State.MERGED),
    }
    assert {k: (set(rule.from_states), rule.to_state) for k, rule in RULES.items()} == expected


def test_a_closed_case_is_rated_only_once():
    rated = apply(case_in(State.CLOSED), full_action(ActionKind.RATE), actor_as(Role.RESIDENT),
                  NOW).snapshot
    with pytest.raises(InvalidTransition) as info:
        apply(rated, full_action(ActionKind.RATE), actor_as(Role.RESIDENT), NOW)
    assert info.value.message == "工单当前状态为「已评价」，不能执行「评价」"


# --- particular rules ---------------------------------------------------------------------


def test_dispatch_records_lead_and_assisting_units():
    action = Action(ActionKind.DISPATCH, lead_unit="cg", assisting_units=("pcs", "fgb"))
    result = apply(case_in(State.ACCEPTED, lead_unit=None), action,
                   actor_as(Role.DUTY_OFFICER), NOW)
    assert result.snapshot.lead_unit == "cg"
    assert result.snapshot.assisting_units == ("pcs", "fgb")
    assert result.event.payload["assisting_units"] == "pcs,fgb"


def test_lead_unit_cannot_also_assist_and_assisting_units_are_distinct():
    for units in (("cg",), ("pcs", "pcs")):
        with pytest.raises(ValidationFailed):
            apply(case_in(State.ACCEPTED), Action(ActionKind.DISPATCH, lead_unit="cg",
                                                  assisting_units=units),
                  actor_as(Role.DUTY_OFFICER), NOW)


def test_assignee_of_another_unit_may_not_return_or_handle():
    other = actor_as(Role.DEPARTMENT_STAFF, unit="somebody-else")
    for kind in (ActionKind.RETURN, ActionKind.HANDLE, ActionKind.REQUEST_EXTENSION):
        with pytest.raises(Forbidden):
            apply(case_in(State.DISPATCHED), full_action(kind), other, NOW)


def test_only_the_reporter_rates_as_a_resident():
    stranger = Actor("resident-2", Role.RESIDENT)
    with pytest.raises(Forbidden):
        apply(case_in(State.CLOSED), full_action(ActionKind.RATE), stranger, NOW)


def test_returned_case_goes_back_to_the_dispatcher_who_redispatches():
    returned = apply(case_in(State.DISPATCHED), Action(ActionKind.RETURN, reason="不属本单位职责"),
                     actor_as(Role.DEPARTMENT_STAFF), NOW)
    assert returned.snapshot.state is State.RETURNED and returned.snapshot.return_count == 1
    again = apply(returned.snapshot, Action(ActionKind.REDISPATCH, lead_unit="fgb"),
                  actor_as(Role.DUTY_OFFICER), NOW)
    assert again.snapshot.state is State.DISPATCHED and again.snapshot.lead_unit == "fgb"
    assert again.event.payload["previous_lead_unit"] == UNIT


def test_extension_is_a_pending_request_then_a_counter_not_a_state():
    staff = actor_as(Role.LIAISON)
    asked = apply(case_in(State.DISPATCHED), full_action(ActionKind.REQUEST_EXTENSION), staff, NOW)
    assert asked.snapshot.state is State.DISPATCHED
    assert asked.snapshot.extension_pending == TimeLimit(2, TimeUnit.WORKING_DAYS)
    with pytest.raises(InvalidTransition):  # one pending request at a time
        apply(asked.snapshot, full_action(ActionKind.REQUEST_EXTENSION), staff, NOW)
    granted = apply(asked.snapshot, Action(ActionKind.APPROVE_EXTENSION),
                    actor_as(Role.DUTY_OFFICER), NOW)
    assert granted.snapshot.extension_pending is None
    assert granted.snapshot.extension_count == 1
    assert granted.event.payload == {"extension_amount": "2", "extension_unit": "working_days"}
    with pytest.raises(InvalidTransition):  # nothing left to approve
        apply(granted.snapshot, Action(ActionKind.APPROVE_EXTENSION),
              actor_as(Role.DUTY_OFFICER), NOW)


def test_refused_extension_leaves_count_unchanged():
    case = case_in(State.DISPATCHED, ActionKind.REFUSE_EXTENSION)
    result = apply(case, Action(ActionKind.REFUSE_EXTENSION, reason="理由不充分"),
                   actor_as(Role.DUTY_OFFICER), NOW)
    assert result.snapshot.extension_pending is None and result.snapshot.extension_count == 0


def test_failed_verification_sends_the_case_back_to_the_same_unit_for_rework():
    result = apply(case_in(State.HANDLED), Action(ActionKind.VERIFY_FAILED, reason="垃圾未清运"),
                   actor_as(Role.NEIGHBOURHOOD_STAFF), NOW)
    assert result.snapshot.state is State.DISPATCHED
    assert result.snapshot.lead_unit == UNIT
    assert result.snapshot.reopened_count == 1


def test_reopen_after_rating_goes_back_to_acceptance_and_clears_the_rating():
    result = apply(case_in(State.RATED), Action(ActionKind.REOPEN, reason="问题复发"),
                   actor_as(Role.RESIDENT), NOW)
    assert result.snapshot.state is State.ACCEPTED
    assert result.snapshot.rating is None and result.snapshot.lead_unit is None
    assert result.snapshot.reopened_count == 1
    assert result.event.payload["previous_rating"] == "dissatisfied"


def test_supervision_flags_without_moving_the_case():
    result = apply(case_in(State.DISPATCHED), Action(ActionKind.SUPERVISE, reason="超期未办"),
                   actor_as(Role.DUTY_OFFICER), NOW)
    assert result.snapshot.state is State.DISPATCHED
    assert result.snapshot.supervised and result.snapshot.supervise_count == 1


def test_escalation_climbs_one_tier_and_stops_at_the_operations_centre():
    case = case_in(State.REPORTED)
    system = actor_as(Role.SYSTEM)
    first = apply(case, Action(ActionKind.ESCALATE), system, NOW).snapshot
    second = apply(first, Action(ActionKind.ESCALATE), system, NOW).snapshot
    assert (first.tier, second.tier) == (Tier.CROSS_DEPARTMENT, Tier.OPERATIONS_CENTRE)
    with pytest.raises(InvalidTransition) as info:
        apply(second, Action(ActionKind.ESCALATE), system, NOW)
    assert "最高层级" in info.value.message


def test_merge_into_itself_is_refused_and_merge_records_the_survivor():
    with pytest.raises(ValidationFailed):
        apply(case_in(State.REPORTED), Action(ActionKind.MERGE, into_case="C-0042"),
              actor_as(Role.DUTY_OFFICER), NOW)
    result = apply(case_in(State.REPORTED), Action(ActionKind.MERGE, into_case="C-0007"),
                   actor_as(Role.DUTY_OFFICER), NOW)
    assert result.snapshot.state is State.MERGED and result.snapshot.merged_into == "C-0007"


def test_snapshot_from_database_strings_behaves_like_one_from_enums():
    # given a snapshot built from plain strings, as a model row provides them
    case = CaseSnapshot(case_id="C-5", state="reported", tier="operations_centre")  # type: ignore[arg-type]
    # then guards that compare enum members still apply
    assert case.state is State.REPORTED
    with pytest.raises(InvalidTransition):
        apply(case, Action(ActionKind.ESCALATE), actor_as(Role.SYSTEM), NOW)


def test_unknown_values_are_refused_as_domain_errors():
    with pytest.raises(ValidationFailed):
        CaseSnapshot(case_id="C-5", state="archived")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        Action("teleport")  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        Actor("u-1", "landlord")  # type: ignore[arg-type]


def test_naive_now_is_refused():
    with pytest.raises(ValidationFailed):
        apply(case_in(State.REPORTED), Action(ActionKind.ACCEPT), actor_as(Role.DUTY_OFFICER),
              dt.datetime(2025, 11, 10, 9))


def test_a_refusal_leaves_the_snapshot_unchanged():
    case = case_in(State.DISPATCHED)
    before = dataclasses.asdict(case)
    with pytest.raises(ValidationFailed):
        apply(case, Action(ActionKind.RETURN), actor_as(Role.DEPARTMENT_STAFF), NOW)
    assert dataclasses.asdict(case) == before


def test_the_happy_path_walks_the_seven_steps():
    case = CaseSnapshot(case_id="C-1", reporter_id=REPORTER)
    steps = [
        (Action(ActionKind.ACCEPT), Role.NEIGHBOURHOOD_STAFF),
        (Action(ActionKind.DISPATCH, lead_unit=UNIT), Role.NEIGHBOURHOOD_STAFF),
        (Action(ActionKind.HANDLE, reason="已清理"), Role.DEPARTMENT_STAFF),
        (Action(ActionKind.VERIFY_OK), Role.NEIGHBOURHOOD_STAFF),
        (Action(ActionKind.CLOSE), Role.SYSTEM),
        (Action(ActionKind.RATE, rating=Rating.SATISFIED), Role.RESIDENT),
    ]
    states = []
    for action, role in steps:
        case = apply(case, action, actor_as(role), NOW).snapshot
        states.append(case.state)
    assert states == [State.ACCEPTED, State.DISPATCHED, State.HANDLED, State.VERIFIED,
                      State.CLOSED, State.RATED]
    assert case.seq == 6


# --- properties over random histories -----------------------------------------------------


# Each step is five dice; ``run`` reads them as: plausible move or anything at all, which
# action, which role, complete or missing fields, which unit a dispatch goes to.
dice = st.lists(st.tuples(*[st.integers(0, 999)] * 5), min_size=8, max_size=60)
ENDING = frozenset({ActionKind.MERGE, ActionKind.REJECT})
UNITS = (UNIT, UNIT, "other-unit")


def run(steps: list[tuple[int, int, int, int, int]]) -> tuple[CaseSnapshot, list[CaseEvent]]:
    """Apply a random history: mostly plausible moves (an allowed action by an allowed role),
    sometimes anything at all (wrong state, wrong role, missing fields, other units).
    Terminal moves (merge, reject) are kept rare so that histories reach rating."""
    case = CaseSnapshot(case_id="C-9", reporter_id=REPORTER)
    history: list[CaseEvent] = []
    for i, (p, k, r, f, u) in enumerate(steps):
        allowed = allowed_actions(case)
        if p % 10 < 8 and allowed:
            kinds = sorted(allowed if p % 20 == 0 else (allowed - ENDING) or allowed)
            kind = kinds[k % len(kinds)]
            roles = sorted(RULES[kind].roles)
        else:
            kind = list(ActionKind)[k % len(ActionKind)]
            roles = list(Role)
        role = roles[r % len(roles)]
        action = full_action(kind) if f % 10 < 9 else Action(kind)
        if kind in (ActionKind.DISPATCH, ActionKind.REDISPATCH):
            action = dataclasses.replace(action, lead_unit=UNITS[u % 3], assisting_units=())
        before = case
        try:
            result = apply(case, action, actor_as(role), NOW + dt.timedelta(minutes=i))
        except DomainError:
            assert case == before
            continue
        case = result.snapshot
        history.append(result.event)
    return case, history


@settings(max_examples=300)
@given(dice)
def test_random_histories_stay_inside_the_table(steps):
    case, history = run(steps)
    note_event(f"final state {case.state.value}")
    assert case.state in set(State)
    for event in history:
        rule = RULES[event.action]
        assert event.from_state in rule.from_states
        assert event.to_state is (rule.to_state or event.from_state)
        assert event.actor_role in rule.roles
        if Field.REASON in rule.required:
            assert event.reason


@settings(max_examples=300)
@given(dice)
def test_history_is_a_consistent_append_only_chain(steps):
    case, history = run(steps)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    state = State.REPORTED
    for event in history:
        assert event.from_state is state
        state = event.to_state
        assert event.case_id == "C-9"
    assert state is case.state and case.seq == len(history)
    assert [e.at for e in history] == sorted(e.at for e in history)


@settings(max_examples=300)
@given(dice)
def test_rated_at_most_once_per_closure_and_reopens_are_counted(steps):
    case, history = run(steps)
    actions = [e.action for e in history]
    note_event(f"rated x{min(actions.count(ActionKind.RATE), 2)} (2 = 2 or more), "
               f"reopened x{min(case.reopened_count, 2)}")
    rates_since_close = 0
    for kind in actions:
        if kind is ActionKind.CLOSE:
            rates_since_close = 0
        elif kind is ActionKind.RATE:
            rates_since_close += 1
            assert rates_since_close == 1
    rework = sum(k in (ActionKind.REOPEN, ActionKind.VERIFY_FAILED) for k in actions)
    assert case.reopened_count == rework
    assert case.return_count == actions.count(ActionKind.RETURN)
    assert case.extension_count == actions.count(ActionKind.APPROVE_EXTENSION)
    assert case.supervise_count == actions.count(ActionKind.SUPERVISE)
    assert actions.count(ActionKind.RATE) <= actions.count(ActionKind.CLOSE)
