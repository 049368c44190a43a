"""Moving a case: staff and residents act through ``lifecycle.apply``, and only here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiayuan.accounts.scope import scope_for
from jiayuan.cases import events
from jiayuan.cases import lifecycle as lc
from jiayuan.cases.calendar import platform_calendar
from jiayuan.cases.models import Case
from jiayuan.cases.services import units
from jiayuan.cases.workdays import TimeLimit, TimeUnit, deadline_for
from jiayuan.core.errors import Forbidden, NotFound, ValidationFailed

# Administrators act on cases as the duty officer does.
ROLE_FOR_CASES = {"admin": lc.Role.DUTY_OFFICER}

# When a state is entered, the timestamp field that records it.
STAMPS = {
    lc.State.ACCEPTED: "accepted_at", lc.State.DISPATCHED: "dispatched_at",
    lc.State.HANDLED: "handled_at", lc.State.CLOSED: "closed_at", lc.State.RATED: "rated_at",
}


def reporter_id_of(case: Case) -> str:
    return f"user:{case.reporter_id}" if case.reporter_id else f"token:{case.tracking_token}"


def snapshot_of(case: Case) -> lc.CaseSnapshot:
    pending = None
    if case.extension_pending_amount is not None and case.extension_pending_unit:
        pending = TimeLimit(case.extension_pending_amount, TimeUnit(case.extension_pending_unit))
    return lc.CaseSnapshot(
        case_id=str(case.pk), state=case.state, tier=case.tier,  # type: ignore[arg-type]
        reporter_id=reporter_id_of(case), lead_unit=case.lead_unit or None,
        assisting_units=tuple(case.assisting_units), supervised=case.supervised,
        supervise_count=case.supervise_count, extension_pending=pending,
        extension_count=case.extension_count, return_count=case.return_count,
        reopened_count=case.reopened_count,
        rating=case.rating or None,  # type: ignore[arg-type]
        merged_into=str(case.merged_into_id) if case.merged_into_id else None, seq=case.seq,
    )


def snapshot_fields(snap: lc.CaseSnapshot) -> dict[str, Any]:
    """The ``Case`` column values that mirror a lifecycle snapshot (the inverse of
    ``snapshot_of``, except ``merged_into``)."""
    return {
        "state": snap.state.value, "tier": snap.tier.value, "lead_unit": snap.lead_unit or "",
        "assisting_units": list(snap.assisting_units), "supervised": snap.supervised,
        "supervise_count": snap.supervise_count,
        "extension_pending_amount": snap.extension_pending.amount
        if snap.extension_pending else None,
        "extension_pending_unit": snap.extension_pending.unit.value
        if snap.extension_pending else "",
        "extension_count": snap.extension_count, "return_count": snap.return_count,
        "reopened_count": snap.reopened_count,
        "rating": snap.rating.value if snap.rating else "", "seq": snap.seq,
    }


def actor_for(user: Any) -> lc.Actor:
    if user is None or not getattr(user, "is_authenticated", False):
        raise Forbidden("请先登录")
    role = ROLE_FOR_CASES.get(user.role, user.role)
    if user.role == "resident":
        return lc.Actor(id=f"user:{user.pk}", role=lc.Role.RESIDENT)
    return lc.Actor(id=f"user:{user.pk}", role=role, unit=units.unit_of(user))


def _action(kind: str, *, reason: str = "", lead_unit: str | None = None,
            assisting_units: tuple[str, ...] = (), rating: str | None = None,
            into_case: Case | None = None, extension: TimeLimit | None = None) -> lc.Action:
    try:
        action_kind = lc.ActionKind(kind)
    except ValueError:
        raise ValidationFailed(f"未知操作“{kind}”",
                               details={"allowed": [a.value for a in lc.ActionKind]}) from None
    try:
        rating_value = lc.Rating(rating) if rating else None
    except ValueError:
        raise ValidationFailed(f"未知评价“{rating}”",
                               details={"allowed": [r.value for r in lc.Rating]}) from None
    for unit in (lead_unit, *assisting_units):
        if unit:
            units.resolve(unit)
    return lc.Action(
        kind=action_kind, reason=(reason or "").strip(), lead_unit=lead_unit or None,
        assisting_units=tuple(assisting_units), rating=rating_value,
        into_case=str(into_case.pk) if into_case is not None else None, extension=extension,
    )


def _persist(case: Case, tr: lc.Transition, *, user: Any, now: dt.datetime,
             extra: dict[str, Any] | None = None) -> Case:
    snap, ev = tr.snapshot, tr.event
    before_state = case.state
    fields = snapshot_fields(snap)
    if snap.merged_into:
        fields["merged_into_id"] = int(snap.merged_into)
    if snap.state.value != before_state and snap.state in STAMPS:
        fields[STAMPS[snap.state]] = now
    if ev.action in (lc.ActionKind.ACCEPT, lc.ActionKind.REJECT) and case.first_response_at is None:
        fields["first_response_at"] = now  # once: a reopen's accept does not move it
    if ev.action is lc.ActionKind.APPROVE_EXTENSION and case.due_at is not None:
        limit = TimeLimit(int(ev.payload["extension_amount"]),
                          TimeUnit(ev.payload["extension_unit"]))
        fields["due_at"] = deadline_for(case.due_at, limit, calendar=platform_calendar())
        fields["warned_at"] = None
    if ev.action is lc.ActionKind.ESCALATE:
        fields["escalated_at"] = now
    for key, value in fields.items():
        setattr(case, key, value)
    case.save(update_fields=[*fields, "updated_at"])
    events.record(case=case, seq=ev.seq, at=ev.at, actor=user,
                  actor_role=ev.actor_role.value, action=ev.action.value,
                  from_state=ev.from_state.value, to_state=ev.to_state.value,
                  reason=ev.reason, payload={**ev.payload, **(extra or {})})
    return case


def merge_payload(duplicate: Case, survivor: Case) -> dict[str, Any]:
    """What a merge event records beyond the lifecycle's ``into_case``: the survivor's
    number, and the follower (the duplicate's reporter now follows the survivor)."""
    return {"into_number": survivor.number,
            "follower": {"case": duplicate.number, "reporter_id": duplicate.reporter_id,
                         "has_contact": bool(duplicate.reporter_phone or duplicate.reporter_id)}}


@transaction.atomic
def act(*, case: Case, user: Any, kind: str, reason: str = "", lead_unit: str | None = None,
        assisting_units: tuple[str, ...] = (), rating: str | None = None,
        into_case: Case | None = None, extension: TimeLimit | None = None,
        now: dt.datetime | None = None) -> Case:
    """Take an action on a case as a logged-in user (staff or the reporting resident).

    Refuses (changing nothing): a case outside the user's area (``OutOfScope``), a role or unit
    that may not act (``Forbidden``), an action the state does not allow
    (``InvalidTransition``), missing or unknown fields (``ValidationFailed``).
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    actor = actor_for(user)
    if actor.role is not lc.Role.RESIDENT:
        scope_for(user).require(locked.path)
    if into_case is not None:
        into_case = Case.objects.select_for_update().get(pk=into_case.pk)
        if into_case.pk == locked.pk:
            raise ValidationFailed("不能把工单并入它自己")
        if into_case.state in (lc.State.MERGED.value, lc.State.REJECTED.value):
            raise ValidationFailed(f"工单 {into_case.number} 已{'并单' if into_case.state == 'merged' else '不予受理'}，不能并入")
        scope_for(user).require(into_case.path)
    action = _action(kind, reason=reason, lead_unit=lead_unit, assisting_units=assisting_units,
                     rating=rating, into_case=into_case, extension=extension)
    when = now or timezone.now()
    tr = lc.apply(snapshot_of(locked), action, actor, when)
    extra = merge_payload(locked, into_case) if into_case is not None else None
    return _persist(locked, tr, user=user, now=when, extra=extra)


@transaction.atomic
def act_as_reporter(*, token: str, kind: str, reason: str = "", rating: str | None = None,
                    now: dt.datetime | None = None) -> Case:
    """The anonymous reporter, holding the tracking token, rates or reopens their case."""
    locked = Case.objects.select_for_update().filter(tracking_token=token).first()
    if locked is None:
        raise NotFound("找不到该工单，请检查查询链接")
    actor = lc.Actor(id=f"token:{token}", role=lc.Role.RESIDENT)
    if locked.reporter_id:
        actor = lc.Actor(id=f"user:{locked.reporter_id}", role=lc.Role.RESIDENT)
    action = _action(kind, reason=reason, rating=rating)
    when = now or timezone.now()
    tr = lc.apply(snapshot_of(locked), action, actor, when)
    return _persist(locked, tr, user=None, now=when)
