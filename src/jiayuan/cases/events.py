"""A case's history: the append-only ``CaseEvent`` rows, and their one writer.

Every step of a case is written here and nowhere else: its report and routing at intake (one
case, or a whole batch), a state change by a person (``services.transitions``), a note, the
SLA sweep's warnings, overdue flags and escalations. Two entry points:

* :func:`record` — one event, for a case the caller holds locked; returns the stored row.
* :func:`record_many` — many :class:`Step` rows in one ``COPY`` (``core.bulk.copy_rows``; on
  other databases ``bulk_create``), for the batch intake and the sweep: no model instance per
  row, so a batch of thousands costs what it cost before there was one writer.

Both tell the case's observers (:mod:`jiayuan.cases.hooks`) about each step once the
transaction commits, in the order of the steps; a step that rolled back is never heard of.

A row is complete when it is written: callers compute the whole payload first (a merge's
follower, an Open311 request's details, an import's source row). Nothing updates a row:
``CaseEvent.save`` refuses to save a stored row and the manager refuses ``update`` and
``bulk_update`` (:class:`~jiayuan.cases.errors.HistoryIsAppendOnly`). A correction is a new
event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple

from django.db import transaction

from jiayuan.cases import hooks
from jiayuan.cases.models import Case, CaseEvent
from jiayuan.core.bulk import copy_rows
from jiayuan.core.errors import ValidationFailed


class Step(NamedTuple):
    """One new row of a case's history, as :func:`record_many` writes it. The fields up to
    ``payload`` are the row's columns (:data:`COLUMNS`); ``source_ref`` is the case's (it
    says whose observers hear of the step) and is not stored on the event. It has no default:
    a writer that forgets it would leave the observers deaf."""

    case_id: int
    seq: int
    at: dt.datetime
    actor_id: int | None
    actor_role: str
    action: str
    from_state: str
    to_state: str
    reason: str
    payload: dict[str, Any]
    source_ref: str


COLUMNS = Step._fields[:-1]


def step(case: Case, *, seq: int, at: dt.datetime, action: str, from_state: str,
         to_state: str, actor: Any = None, actor_role: str, reason: str = "",
         payload: Mapping[str, Any] | None = None) -> Step:
    """The :class:`Step` of ``case`` (saved, or with its id already drawn) described by the
    arguments. ``actor`` is the acting user (anyone not logged in is recorded as no user).
    Refuses (``ValidationFailed``) a seq below 1, a naive ``at`` and an empty action."""
    if case.pk is None:
        raise ValueError("a case's event needs the case's id")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValidationFailed(f"事件序号必须是正整数，收到 {seq!r}")
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed("事件时间必须带时区", details={"field": "at"})
    if not action:
        raise ValidationFailed("事件必须有动作", details={"field": "action"})
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    return Step(case.pk, seq, at, actor_id, actor_role, action, from_state, to_state,
                reason or "", dict(payload or {}), case.source_ref or "")


def record(*, case: Case, seq: int, at: dt.datetime, action: str, from_state: str,
           to_state: str, actor: Any = None, actor_role: str, reason: str = "",
           payload: Mapping[str, Any] | None = None) -> CaseEvent:
    """Append one event to the history of ``case`` (which the caller holds locked, its
    ``seq`` already moved on to ``seq``) and, once the transaction commits, tell the case's
    observers with this ``case`` object. Returns the stored event. Refuses what :func:`step`
    refuses, and a ``seq`` the case already has (``IntegrityError``), writing nothing."""
    s = step(case, seq=seq, at=at, action=action, from_state=from_state, to_state=to_state,
             actor=actor, actor_role=actor_role, reason=reason, payload=payload)
    event = CaseEvent(**dict(zip(COLUMNS, s, strict=False)))
    event.case = case
    event.save(force_insert=True)
    if hooks.watched(case.source_ref):
        transaction.on_commit(partial(hooks.deliver, case, event))
    return event


def record_many(steps: Sequence[Step]) -> None:
    """Append ``steps`` (of cases already inserted, each at a ``seq`` its case does not have
    yet) in one statement and, once the transaction commits, tell the observers of each
    watched case about its steps, in order (the cases and events read back then, in two
    queries, only when some case is watched). Refuses nothing itself: a duplicate
    ``(case, seq)`` or an unknown case fails the insert (``IntegrityError``), writing none."""
    if not steps:
        return
    copy_rows(CaseEvent, COLUMNS, [s[:-1] for s in steps])
    heard = [(s.case_id, s.seq) for s in steps if s.source_ref and hooks.watched(s.source_ref)]
    if heard:
        transaction.on_commit(partial(_deliver_stored, heard))


def _deliver_stored(keys: list[tuple[int, int]]) -> None:
    """Tell the observers of the events at ``keys`` ((case id, seq), in order), read back."""
    ids = {case_id for case_id, _ in keys}
    cases = Case.objects.in_bulk(ids)
    stored = {(e.case_id, e.seq): e for e in CaseEvent.objects.filter(
        case_id__in=ids, seq__in={seq for _, seq in keys})}
    for key in keys:
        case, event = cases.get(key[0]), stored.get(key)
        if case is not None and event is not None:
            event.case = case
            hooks.deliver(case, event)
