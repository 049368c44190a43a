"""The case state machine (发现 → 受理 → 派遣 → 处置 → 核查 → 结案 → 评价), in one place. Pure.

Everything a case may go through is the table :data:`RULES`: for each action the states it
may start from, the state it leads to, the roles that may take it, and the fields it needs.
:func:`apply` is the only way to move a case: it checks the table and the guards, then returns
the new :class:`CaseSnapshot` and the :class:`CaseEvent` to append to the case's history.
It changes nothing it was given (snapshots are frozen), so a refusal leaves the case as it was.

Decisions (sources and reasons in docs/case-lifecycle.md):

* ``returned`` (退单) is a resting state: the case waits at the dispatcher, who re-dispatches.
* ``extended`` (延期) is not a state: ``request_extension`` marks a pending request on a
  dispatched case; ``approve_extension`` grants it (``extension_count`` + 1, the service moves
  the deadline) and ``refuse_extension`` drops it. The case stays ``dispatched`` throughout.
* ``supervised`` (督办) is a flag with a counter on any open case; the state does not change.
* ``reopened`` (重办 / 返工) is an event and a counter, not a state. A failed verification
  sends the case back to ``dispatched`` — the same lead unit redoes the work (返工). A reopen
  after closure (the reporter is dissatisfied, or a revisit finds the fix did not hold) goes
  back to ``accepted``, so the dispatcher decides afresh which unit handles it (二次派单).
* ``merged`` (并单) and ``rejected`` (不予受理) are terminal; so is nothing else: ``rated``
  may still be reopened.
* ``escalate`` raises the tier of a case nobody accepted in time (neighbourhood →
  cross_department → operations_centre); the state stays ``reported``.

Who may act is decided here by role only, plus two identity checks: only the reporter (or a
duty officer recording a call-back) rates or reopens as a resident, and an assignee acts only
on a case whose lead unit is the assignee's unit. *Where* (area scope) is the service's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from jiayuan.core.errors import Forbidden, InvalidTransition, ValidationFailed

from .workdays import TimeLimit


class State(StrEnum):
    REPORTED = "reported"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    HANDLED = "handled"
    VERIFIED = "verified"
    CLOSED = "closed"
    RATED = "rated"
    MERGED = "merged"


STATE_LABELS: Mapping[State, str] = MappingProxyType({
    State.REPORTED: "已上报",
    State.ACCEPTED: "已受理",
    State.REJECTED: "不予受理",
    State.DISPATCHED: "已派遣",
    State.RETURNED: "已退单",
    State.HANDLED: "已处置",
    State.VERIFIED: "已核查",
    State.CLOSED: "已结案",
    State.RATED: "已评价",
    State.MERGED: "已并单",
})

TERMINAL_STATES = frozenset({State.REJECTED, State.MERGED})
OPEN_STATES = frozenset(
    {State.REPORTED, State.ACCEPTED, State.DISPATCHED, State.RETURNED, State.HANDLED,
     State.VERIFIED}
)


class ActionKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    DISPATCH = "dispatch"
    RETURN = "return"
    REDISPATCH = "redispatch"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    HANDLE = "handle"
    VERIFY_OK = "verify_ok"
    VERIFY_FAILED = "verify_failed"
    CLOSE = "close"
    RATE = "rate"
    REOPEN = "reopen"
    SUPERVISE = "supervise"
    ESCALATE = "escalate"
    MERGE = "merge"


ACTION_LABELS: Mapping[ActionKind, str] = MappingProxyType({
    ActionKind.ACCEPT: "受理",
    ActionKind.REJECT: "不予受理",
    ActionKind.DISPATCH: "派遣",
    ActionKind.RETURN: "退单",
    ActionKind.REDISPATCH: "重新派遣",
    ActionKind.REQUEST_EXTENSION: "申请延期",
    ActionKind.APPROVE_EXTENSION: "批准延期",
    ActionKind.REFUSE_EXTENSION: "驳回延期",
    ActionKind.HANDLE: "处置反馈",
    ActionKind.VERIFY_OK: "核查通过",
    ActionKind.VERIFY_FAILED: "核查不通过",
    ActionKind.CLOSE: "结案",
    ActionKind.RATE: "评价",
    ActionKind.REOPEN: "重办",
    ActionKind.SUPERVISE: "督办",
    ActionKind.ESCALATE: "升级",
    ActionKind.MERGE: "并单",
})


class Role(StrEnum):
    """Roles that act on cases; values match ``accounts.models.Role``, plus ``system``."""

    DUTY_OFFICER = "duty_officer"
    NEIGHBOURHOOD_STAFF = "neighbourhood_staff"
    DEPARTMENT_STAFF = "department_staff"
    LIAISON = "liaison"
    RESIDENT = "resident"
    SYSTEM = "system"


class Tier(StrEnum):
    NEIGHBOURHOOD = "neighbourhood"
    CROSS_DEPARTMENT = "cross_department"
    OPERATIONS_CENTRE = "operations_centre"


TIER_ORDER: tuple[Tier, ...] = (Tier.NEIGHBOURHOOD, Tier.CROSS_DEPARTMENT, Tier.OPERATIONS_CENTRE)
TIER_LABELS: Mapping[Tier, str] = MappingProxyType({
    Tier.NEIGHBOURHOOD: "小闭环",
    Tier.CROSS_DEPARTMENT: "中闭环",
    Tier.OPERATIONS_CENTRE: "大闭环",
})


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class Field(StrEnum):
    """Fields an action may require."""

    REASON = "reason"
    LEAD_UNIT = "lead_unit"
    RATING = "rating"
    INTO_CASE = "into_case"
    EXTENSION = "extension"


FIELD_LABELS: Mapping[Field, str] = MappingProxyType({
    Field.REASON: "原因或说明",
    Field.LEAD_UNIT: "主办单位",
    Field.RATING: "评价结果",
    Field.INTO_CASE: "并入的工单",
    Field.EXTENSION: "延期时长",
})


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: from-states, result (``None`` = state unchanged), roles, fields."""

    from_states: frozenset[State]
    to_state: State | None
    roles: frozenset[Role]
    required: frozenset[Field] = frozenset()


_D, _N, _DEPT, _L, _R, _S = (
    Role.DUTY_OFFICER, Role.NEIGHBOURHOOD_STAFF, Role.DEPARTMENT_STAFF, Role.LIAISON,
    Role.RESIDENT, Role.SYSTEM,
)
DISPATCHERS = frozenset({_D, _N})
ASSIGNEES = frozenset({_N, _DEPT, _L})
# Roles whose acts on a dispatched case must come from the case's lead unit.
ASSIGNEE_ACTIONS = frozenset(
    {ActionKind.RETURN, ActionKind.REQUEST_EXTENSION, ActionKind.HANDLE}
)


def _rule(
    from_states: set[State], to_state: State | None, roles: set[Role] | frozenset[Role],
    required: set[Field] | None = None,
) -> Rule:
    return Rule(frozenset(from_states), to_state, frozenset(roles), frozenset(required or ()))


RULES: Mapping[ActionKind, Rule] = MappingProxyType({
    ActionKind.ACCEPT: _rule({State.REPORTED}, State.ACCEPTED, {_D, _N, _S}),
    ActionKind.REJECT: _rule({State.REPORTED}, State.REJECTED, {_D, _N}, {Field.REASON}),
    ActionKind.DISPATCH: _rule({State.ACCEPTED}, State.DISPATCHED, {_D, _N, _S}, {Field.LEAD_UNIT}),
    ActionKind.RETURN: _rule({State.DISPATCHED}, State.RETURNED, ASSIGNEES, {Field.REASON}),
    ActionKind.REDISPATCH: _rule(
        {State.RETURNED}, State.DISPATCHED, DISPATCHERS, {Field.LEAD_UNIT}
    ),
    ActionKind.REQUEST_EXTENSION: _rule(
        {State.DISPATCHED}, None, ASSIGNEES, {Field.REASON, Field.EXTENSION}
    ),
    ActionKind.APPROVE_EXTENSION: _rule({State.DISPATCHED}, None, {_D}),
    ActionKind.REFUSE_EXTENSION: _rule({State.DISPATCHED}, None, {_D}, {Field.REASON}),
    ActionKind.HANDLE: _rule({State.DISPATCHED}, State.HANDLED, ASSIGNEES, {Field.REASON}),
    ActionKind.VERIFY_OK: _rule({State.HANDLED}, State.VERIFIED, DISPATCHERS),
    ActionKind.VERIFY_FAILED: _rule(
        {State.HANDLED}, State.DISPATCHED, DISPATCHERS, {Field.REASON}
    ),
    ActionKind.CLOSE: _rule({State.VERIFIED}, State.CLOSED, {_D, _N, _S}),
    ActionKind.RATE: _rule({State.CLOSED}, State.RATED, {_R, _D}, {Field.RATING}),
    ActionKind.REOPEN: _rule(
        {State.CLOSED, State.RATED}, State.ACCEPTED, {_R, _D}, {Field.REASON}
    ),
    ActionKind.SUPERVISE: _rule(set(OPEN_STATES), None, {_D}, {Field.REASON}),
    ActionKind.ESCALATE: _rule({State.REPORTED}, None, {_D, _S}),
    ActionKind.MERGE: _rule(
        {State.REPORTED, State.ACCEPTED, State.RETURNED}, State.MERGED, DISPATCHERS,
        {Field.INTO_CASE},
    ),
})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an opaque id, a role, and for staff the code of their unit (department or
    neighbourhood) so that assignee actions can be checked against the case's lead unit."""

    id: str
    role: Role
    unit: str | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError as exc:
            raise Forbidden(
                f"角色「{self.role}」无权处理工单", details={"role": str(self.role)}
            ) from exc


@dataclass(frozen=True, slots=True)
class Action:
    """What the actor asks for, with the fields that action needs (see :data:`RULES`)."""

    kind: ActionKind
    reason: str = ""
    lead_unit: str | None = None
    assisting_units: tuple[str, ...] = ()
    rating: Rating | None = None
    into_case: str | None = None
    extension: TimeLimit | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", ActionKind(self.kind))
        except ValueError as exc:
            raise ValidationFailed(
                f"未知的工单操作：{self.kind!r}", details={"field": "kind"}
            ) from exc
        if self.rating is not None:
            try:
                object.__setattr__(self, "rating", Rating(self.rating))
            except ValueError as exc:
                raise ValidationFailed(
                    f"评价结果必须是满意、基本满意或不满意之一，收到 {self.rating!r}",
                    details={"field": "rating"},
                ) from exc
        object.__setattr__(self, "assisting_units", tuple(self.assisting_units))


@dataclass(frozen=True, slots=True)
class CaseSnapshot:
    """What the state machine needs to know about one case. ``seq`` counts its events."""

    case_id: str
    state: State = State.REPORTED
    tier: Tier = Tier.NEIGHBOURHOOD
    reporter_id: str | None = None
    lead_unit: str | None = None
    assisting_units: tuple[str, ...] = ()
    supervised: bool = False
    supervise_count: int = 0
    extension_pending: TimeLimit | None = None
    extension_count: int = 0
    return_count: int = 0
    reopened_count: int = 0
    rating: Rating | None = None
    merged_into: str | None = None
    seq: int = 0

    def __post_init__(self) -> None:
        # rows from the database arrive as plain strings; the machine compares enum members
        try:
            object.__setattr__(self, "state", State(self.state))
            object.__setattr__(self, "tier", Tier(self.tier))
            if self.rating is not None:
                object.__setattr__(self, "rating", Rating(self.rating))
        except ValueError as exc:
            raise ValidationFailed(f"工单快照含未知的取值：{exc}") from exc
        object.__setattr__(self, "assisting_units", tuple(self.assisting_units))

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One append-only history row: who did what, when, from which state to which, and why."""

    case_id: str
    seq: int
    action: ActionKind
    actor_id: str
    actor_role: Role
    at: dt.datetime
    from_state: State
    to_state: State
    reason: str = ""
    payload: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Transition:
    snapshot: CaseSnapshot
    event: CaseEvent


def _invalid(case: CaseSnapshot, kind: ActionKind, why: str = "") -> InvalidTransition:
    message = f"工单当前状态为「{STATE_LABELS[case.state]}」，不能执行「{ACTION_LABELS[kind]}」"
    if why:
        message += f"：{why}"
    return InvalidTransition(
        message, details={"state": case.state.value, "action": kind.value}
    )


def _missing(kind: ActionKind, name: Field) -> ValidationFailed:
    return ValidationFailed(
        f"执行「{ACTION_LABELS[kind]}」必须填写{FIELD_LABELS[name]}",
        details={"field": name.value, "action": kind.value},
    )


def _check_fields(action: Action, rule: Rule) -> None:
    kind = action.kind
    present = {
        Field.REASON: bool(action.reason.strip()),
        Field.LEAD_UNIT: bool(action.lead_unit and action.lead_unit.strip()),
        Field.RATING: action.rating is not None,
        Field.INTO_CASE: bool(action.into_case and action.into_case.strip()),
        Field.EXTENSION: action.extension is not None,
    }
    for name in sorted(rule.required):
        if not present[name]:
            raise _missing(kind, name)
    if kind in (ActionKind.DISPATCH, ActionKind.REDISPATCH):
        units = action.assisting_units
        if any(not u.strip() for u in units):
            raise ValidationFailed("协办单位不能为空白", details={"field": "assisting_units"})
        if len(set(units)) != len(units):
            raise ValidationFailed("协办单位不能重复", details={"field": "assisting_units"})
        if action.lead_unit in units:
            raise ValidationFailed("主办单位不能同时是协办单位", details={"field": "assisting_units"})
    if kind is ActionKind.REQUEST_EXTENSION and action.extension and action.extension.amount == 0:
        raise ValidationFailed("延期时长必须大于零", details={"field": "extension"})


def _check_actor(case: CaseSnapshot, action: Action, actor: Actor, rule: Rule) -> None:
    if actor.role not in rule.roles:
        raise Forbidden(
            f"角色「{actor.role.value}」无权执行「{ACTION_LABELS[action.kind]}」",
            details={"role": actor.role.value, "action": action.kind.value},
        )
    if actor.role is Role.RESIDENT and actor.id != case.reporter_id:
        raise Forbidden(
            f"只有反映人本人可以「{ACTION_LABELS[action.kind]}」",
            details={"action": action.kind.value},
        )
    if action.kind in ASSIGNEE_ACTIONS and actor.unit != case.lead_unit:
        raise Forbidden(
            f"该工单未派遣给您的单位，不能「{ACTION_LABELS[action.kind]}」",
            details={"action": action.kind.value, "lead_unit": case.lead_unit},
        )


def allowed_actions(case: CaseSnapshot) -> frozenset[ActionKind]:
    """Actions whose from-states and guards admit ``case`` (ignoring who acts and fields)."""
    return frozenset(kind for kind in ActionKind if _guard(case, kind) is None)


def _guard(case: CaseSnapshot, kind: ActionKind) -> str | None:
    """``None`` if ``kind`` may start from ``case``; else why not (empty = wrong state)."""
    if case.state not in RULES[kind].from_states:
        return ""
    if kind is ActionKind.REQUEST_EXTENSION and case.extension_pending is not None:
        return "已有延期申请待审批"
    if kind in (ActionKind.APPROVE_EXTENSION, ActionKind.REFUSE_EXTENSION) and (
        case.extension_pending is None
    ):
        return "没有待审批的延期申请"
    if kind is ActionKind.ESCALATE and case.tier is TIER_ORDER[-1]:
        return "已在最高层级（大闭环）"
    return None


def apply(case: CaseSnapshot, action: Action, actor: Actor, now: dt.datetime) -> Transition:
    """Take ``action`` on ``case`` as ``actor`` at ``now``; return the new snapshot and its event.

    Refuses, leaving ``case`` untouched: a naive ``now`` or missing/invalid fields
    (``ValidationFailed``); a role not in the table, a resident who is not the reporter, an
    assignee of another unit (``Forbidden``); an action not allowed from the current state
    or blocked by a guard (``InvalidTransition``, message naming state and action).
    """
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationFailed("操作时间必须是带时区的时间", details={"field": "now"})
    kind = action.kind
    rule = RULES[kind]
    why = _guard(case, kind)
    if why is not None:
        raise _invalid(case, kind, why)
    _check_actor(case, action, actor, rule)
    _check_fields(action, rule)

    to_state = rule.to_state or case.state
    changes: dict[str, object] = {"state": to_state, "seq": case.seq + 1}
    payload: dict[str, str] = {}

    if kind in (ActionKind.DISPATCH, ActionKind.REDISPATCH):
        changes["lead_unit"] = action.lead_unit
        changes["assisting_units"] = action.assisting_units
        changes["extension_pending"] = None
        payload["lead_unit"] = str(action.lead_unit)
        if action.assisting_units:
            payload["assisting_units"] = ",".join(action.assisting_units)
        if kind is ActionKind.REDISPATCH and case.lead_unit:
            payload["previous_lead_unit"] = case.lead_unit
    elif kind is ActionKind.RETURN:
        changes["return_count"] = case.return_count + 1
        changes["extension_pending"] = None
        payload["from_unit"] = str(case.lead_unit)
    elif kind is ActionKind.REQUEST_EXTENSION:
        assert action.extension is not None
        changes["extension_pending"] = action.extension
        payload["extension_amount"] = str(action.extension.amount)
        payload["extension_unit"] = action.extension.unit.value
    elif kind is ActionKind.APPROVE_EXTENSION:
        assert case.extension_pending is not None
        changes["extension_pending"] = None
        changes["extension_count"] = case.extension_count + 1
        payload["extension_amount"] = str(case.extension_pending.amount)
        payload["extension_unit"] = case.extension_pending.unit.value
    elif kind in (ActionKind.REFUSE_EXTENSION, ActionKind.HANDLE):
        changes["extension_pending"] = None
    elif kind is ActionKind.VERIFY_FAILED:
        changes["reopened_count"] = case.reopened_count + 1
        payload["reopened_count"] = str(case.reopened_count + 1)
    elif kind is ActionKind.RATE:
        assert action.rating is not None
        changes["rating"] = action.rating
        payload["rating"] = action.rating.value
    elif kind is ActionKind.REOPEN:
        changes["reopened_count"] = case.reopened_count + 1
        changes["rating"] = None
        changes["lead_unit"] = None
        changes["assisting_units"] = ()
        payload["reopened_count"] = str(case.reopened_count + 1)
        if case.rating is not None:
            payload["previous_rating"] = case.rating.value
    elif kind is ActionKind.SUPERVISE:
        changes["supervised"] = True
        changes["supervise_count"] = case.supervise_count + 1
    elif kind is ActionKind.ESCALATE:
        new_tier = TIER_ORDER[TIER_ORDER.index(case.tier) + 1]
        changes["tier"] = new_tier
        payload["from_tier"] = case.tier.value
        payload["to_tier"] = new_tier.value
    elif kind is ActionKind.MERGE:
        into = str(action.into_case).strip()
        if into == case.case_id:
            raise ValidationFailed("工单不能并入自身", details={"field": "into_case"})
        changes["merged_into"] = into
        payload["into_case"] = into

    snapshot = replace(case, **changes)  # type: ignore[arg-type]
    event = CaseEvent(
        case_id=case.case_id,
        seq=snapshot.seq,
        action=kind,
        actor_id=actor.id,
        actor_role=actor.role,
        at=now,
        from_state=case.state,
        to_state=to_state,
        reason=action.reason.strip(),
        payload=MappingProxyType(payload),
    )
    return Transition(snapshot=snapshot, event=event)
