"""The SLA sweep (时限监控): warn before a deadline, escalate what nobody accepts, flag overdue.

:func:`sweep` is what the worker runs every minute (``cases/tasks.py``). In one pass it

1. **overdue** (超期): every open case whose ``due_at`` has passed gets one ``overdue`` event
   and a notification to its lead unit. "Once" is per deadline: a case is flagged when no
   ``overdue`` event exists at or after its current ``due_at`` (an approved extension moves
   ``due_at`` later, so the case can be flagged again against the new deadline). A case
   flagged overdue that was never warned has ``warned_at`` stamped too: a yellow light after
   the red one is noise.
2. **warning** (预警): every open case whose ``warn_at`` has come, whose deadline has not
   passed and whose ``warned_at`` is empty gets ``warned_at``, one ``warn`` event and a
   notification (in-app, plus ``core.notify`` to each recipient's phone).
3. **acceptance** (超时未受理): a case still ``reported`` when the acceptance limit has run
   out, counted from when it was reported or last escalated, rises one tier through
   ``lifecycle.apply`` (``escalate`` as ``system``): neighbourhood → cross_department →
   operations_centre, and no further. One tier per sweep; the next tier gets a fresh window.

Events written here take the next ``seq`` of their case and bump ``Case.seq``, like every
other step of its history; actor role ``system``, no user.

**Exactly once with several workers.** Each step first lists candidate ids in one indexed
query (no lock), then works through them in batches, each batch its own transaction:
``select_for_update(skip_locked=True)`` on the ids *with the step's condition repeated*, then
the condition checked again on the locked rows in a fresh statement (for ``overdue``, whose
"already flagged" test lives in another table that PostgreSQL's re-check of a locked row does
not re-read). A row another worker holds is skipped, a row it has finished no longer matches,
so a case never gets two warn/escalate/overdue events for one deadline. On SQLite there are
no row locks: writers are serialised by the database lock, and the embedded deployment runs
one worker.

**Configuration** (environment, like ``cases.calendar``):

* ``JIAYUAN_SLA_ACCEPT_LIMIT`` — how long a case may stay ``reported``, as
  ``"<amount> <unit>"`` with a ``workdays.TimeUnit`` (default ``2 working_hours``). The
  reference data's ``dispatch`` limit (5 minutes, Beijing 12345 draft) is the city hotline's own
  dispatch to the district, around the clock; a neighbourhood or department accepting a case
  works office hours, so the default is two working hours [U] (see docs/case-sla.md).
* ``JIAYUAN_QUESTIONNAIRE_DAYS`` — days after closure before the reporter is asked whether
  the fix held (default 28, FixMyStreet's four-week questionnaire).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiayuan.cases import events
from jiayuan.cases import lifecycle as lc
from jiayuan.cases.calendar import platform_calendar
from jiayuan.cases.events import Step
from jiayuan.cases.models import Case, CaseEvent, Notification
from jiayuan.cases.services import units
from jiayuan.cases.services.transitions import snapshot_of
from jiayuan.cases.workdays import SHANGHAI, TimeLimit, TimeUnit, deadline_for
from jiayuan.core.errors import DomainError, ValidationFailed
from jiayuan.core.notify import notify
from jiayuan.registry.models import (
    Department,
    JointStation,
    Neighbourhood,
    OperationsCentre,
    Subdistrict,
)

log = logging.getLogger(__name__)

DEFAULT_ACCEPT_LIMIT = TimeLimit(2, TimeUnit.WORKING_HOURS)
DEFAULT_QUESTIONNAIRE_DAYS = 28
DEFAULT_BATCH_SIZE = 2000

OPEN = [s.value for s in lc.OPEN_STATES]
CLOSED = [lc.State.CLOSED.value, lc.State.RATED.value]
TOP_TIER = lc.TIER_ORDER[-1].value
SYSTEM = lc.Actor(id="system:sla", role=lc.Role.SYSTEM)

WARN, OVERDUE, ESCALATE = "warn", "overdue", lc.ActionKind.ESCALATE.value
KIND_OF = {WARN: "case_warning", OVERDUE: "case_overdue", ESCALATE: "case_escalated"}

# The columns warn and overdue read under the lock.
_ROW = ("id", "number", "state", "tier", "seq", "lead_unit", "due_at", "warn_at", "warned_at",
        "neighbourhood_id", "subdistrict_id", "category_id", "source_ref")
# What escalation reads under the lock.
_FIELDS = ("id", "number", "state", "tier", "seq", "lead_unit", "due_at", "warn_at",
           "warned_at", "escalated_at", "reported_at", "neighbourhood_id", "subdistrict_id",
           "category_id", "source_ref",
           # what ``transitions.snapshot_of`` reads, so escalation loads no row twice
           "reporter_id", "tracking_token", "assisting_units", "supervised", "supervise_count",
           "extension_pending_amount", "extension_pending_unit", "extension_count",
           "return_count", "reopened_count", "rating", "merged_into_id")


@dataclass(frozen=True, slots=True)
class SweepResult:
    """How many cases one sweep acted on, and how many in-app notifications it created."""

    warned: int = 0
    escalated: int = 0
    overdue: int = 0
    notified: int = 0

    @property
    def acted(self) -> int:
        return self.warned + self.escalated + self.overdue

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- configuration -------------------------------------------------------------------------------

def accept_limit() -> TimeLimit:
    """The acceptance limit from ``JIAYUAN_SLA_ACCEPT_LIMIT`` (default 2 working hours).
    Refuses a malformed value with ``ValidationFailed`` rather than guessing."""
    raw = os.environ.get("JIAYUAN_SLA_ACCEPT_LIMIT", "").strip()
    if not raw:
        return DEFAULT_ACCEPT_LIMIT
    amount, _, unit = raw.partition(" ")
    return TimeLimit.parse(amount, unit)


def questionnaire_days() -> int:
    """Days after closure before the revisit questionnaire (``JIAYUAN_QUESTIONNAIRE_DAYS``)."""
    raw = os.environ.get("JIAYUAN_QUESTIONNAIRE_DAYS", "").strip()
    try:
        days = int(raw) if raw else DEFAULT_QUESTIONNAIRE_DAYS
    except ValueError:
        raise ValidationFailed(f"回访天数必须是整数，收到 {raw!r}") from None
    if days < 0:
        raise ValidationFailed(f"回访天数不能为负，收到 {days}")
    return days


def _aware(now: dt.datetime) -> dt.datetime:
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValidationFailed("时限检查的时间必须带时区", details={"field": "now"})
    return now


_US = dt.timedelta(microseconds=1)


def latest_start(now: dt.datetime, limit: TimeLimit) -> dt.datetime:
    """The latest start whose deadline under ``limit`` (counted as intake counts it, in the
    platform's working calendar) is at or before ``now``.

    A case started at or before this moment has used up its limit; one started after has not.
    ``deadline_for`` never decreases as its start moves later, so the boundary is found by
    bisection to the microsecond (the database's resolution) — one computation per sweep
    instead of one per case, which lets the database do the comparison.
    """
    cal = platform_calendar()

    def used_up(start: dt.datetime) -> bool:
        return deadline_for(start, limit, calendar=cal) <= now

    if used_up(now):
        return now
    step = dt.timedelta(days=1)
    lo = now - step
    while not used_up(lo):
        step *= 2
        lo = now - step
    lo_us, hi_us = 0, (now - lo) // _US  # lo is used up, lo + hi_us (= now) is not
    while hi_us - lo_us > 1:
        mid = (lo_us + hi_us) // 2
        if used_up(lo + mid * _US):
            lo_us = mid
        else:
            hi_us = mid
    return lo + lo_us * _US


# --- who hears about it --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    phone: str


class _Recipients:
    """Users who act for a unit, and the default unit of a place and tier; cached per sweep."""

    def __init__(self) -> None:
        self._by_unit: dict[str, list[Recipient]] = {}
        self._default: dict[tuple[str, int | None, int | None, int | None], str | None] = {}
        self._dept_kind: dict[int | None, str] = {}

    def of_unit(self, unit_ref: str) -> list[Recipient]:
        if unit_ref not in self._by_unit:
            self._by_unit[unit_ref] = unit_users(unit_ref)
        return self._by_unit[unit_ref]

    def unit_for(self, row: Any, tier: str) -> str | None:
        """The case's lead unit; for a case nobody has taken yet, the tier's default unit."""
        if row.lead_unit:
            return str(row.lead_unit)
        key = (tier, row.neighbourhood_id, row.subdistrict_id, row.category_id)
        if key not in self._default:
            self._default[key] = units.default_unit(
                tier=tier,
                neighbourhood=Neighbourhood(pk=row.neighbourhood_id)
                if row.neighbourhood_id else None,
                subdistrict=Subdistrict(pk=row.subdistrict_id) if row.subdistrict_id else None,
                department_kind=self._kind(row.category_id),
            )
        return self._default[key]

    def _kind(self, category_id: int | None) -> str:
        if category_id not in self._dept_kind:
            from jiayuan.cases.models import Category

            found = Category.objects.filter(pk=category_id).values_list(
                "default_department_kind", flat=True).first() if category_id else None
            self._dept_kind[category_id] = found or ""
        return self._dept_kind[category_id]


def unit_users(unit_ref: str) -> list[Recipient]:
    """Active users who act for a unit (the inverse of ``units.unit_of``).

    ``department:<code>``: its department staff and liaisons; ``station:<code>``: neighbourhood
    staff granted that station's neighbourhood; ``centre:<code>``: duty officers granted the
    centre's subdistrict (a district centre: the district). An unknown ref has no users (the
    sweep logs it and carries on rather than stopping every other case).
    """
    from jiayuan.accounts.models import User

    try:
        unit = units.resolve(unit_ref)
    except DomainError:
        log.warning("SLA sweep: unknown unit %s, nobody notified", unit_ref)
        return []
    users = User.objects.filter(is_active=True)
    if isinstance(unit, Department):
        users = users.filter(role__in=["department_staff", "liaison"], department=unit)
    elif isinstance(unit, JointStation):
        users = users.filter(role="neighbourhood_staff",
                             area_grants__region_type="neighbourhood",
                             area_grants__region_code=unit.neighbourhood.code)
    elif isinstance(unit, OperationsCentre):
        if unit.subdistrict_id:
            region = ("subdistrict", Subdistrict.objects.get(pk=unit.subdistrict_id).code)
        else:
            region = ("district", unit.district.code)
        users = users.filter(role="duty_officer", area_grants__region_type=region[0],
                             area_grants__region_code=region[1])
    else:  # pragma: no cover - units.resolve returns only these three
        return []
    return [Recipient(pk, phone or "")
            for pk, phone in users.distinct().order_by("pk").values_list("pk", "phone")]


def _local(moment: dt.datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%m月%d日 %H:%M}" if moment else "—"


def _message(kind: str, row: Any, tier: str) -> str:
    if kind == WARN:
        return f"工单 {row.number} 将于 {_local(row.due_at)} 到期，请抓紧处置"
    if kind == OVERDUE:
        return f"工单 {row.number} 已超过处置时限（{_local(row.due_at)}），请尽快处置"
    label = lc.TIER_LABELS[lc.Tier(tier)]
    return f"工单 {row.number} 超时未受理，已升级为{label}，请及时受理"


def _notify(rows: Iterable[tuple[Any, str]], kind: str, who: _Recipients) -> int:
    """In-app notifications for each (case row, tier) now, SMS after commit; returns how many."""
    notes: list[tuple[int, int, str, str, dt.datetime]] = []
    created = timezone.now()
    texts: list[tuple[str, str]] = []
    for row, tier in rows:
        unit = who.unit_for(row, tier)
        if not unit:
            continue
        text = _message(kind, row, tier)
        for person in who.of_unit(unit):
            notes.append((person.user_id, row.id, KIND_OF[kind], text[:300], created))
            if person.phone:
                texts.append((person.phone, text))
    _insert(Notification, NOTIFICATION_COLUMNS, notes)
    if texts:
        def send() -> None:
            for phone, text in texts:
                try:
                    notify(to=phone, text=text, kind=KIND_OF[kind])
                except Exception:  # a failing SMS gateway must not undo the sweep
                    log.exception("SLA sweep: could not send %s to %s", kind, phone)

        transaction.on_commit(send)
    return len(notes)


# --- the sweep -----------------------------------------------------------------------------------

def _insert(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert plain rows (values in ``columns`` order). On PostgreSQL one ``INSERT … SELECT
    FROM unnest(<one array per column>)``: a constant-size statement whatever the batch, and no
    model instances (``bulk_create`` spends more time building SQL than the database spends
    on it at this scale). Elsewhere ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows])
        return
    fields = [model._meta.get_field(name) for name in columns]
    arrays: list[list[Any]] = [[] for _ in fields]
    for row in rows:
        for i, value in enumerate(row):
            arrays[i].append(value)
    casts: list[str] = []
    for i, field in enumerate(fields):
        db_type = field.db_type(connection) or "text"
        if db_type == "jsonb":
            arrays[i] = [json.dumps(v, ensure_ascii=False) for v in arrays[i]]
            casts.append("%s::text[]::jsonb[]")
        else:
            casts.append(f"%s::{db_type.split(' CHECK')[0]}[]")
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    # Identifiers and types come from the model's metadata; every value is a parameter.
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({', '.join(casts)})"  # noqa: S608
    with connection.cursor() as cur:
        cur.execute(sql, arrays)


NOTIFICATION_COLUMNS = ("user_id", "case_id", "kind", "message", "created_at")


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _events(rows: Iterable[Any], action: str, now: dt.datetime,
            payload: Callable[[Any], dict[str, Any]]) -> None:
    """Append one ``action`` event (state unchanged, by the system) to each locked row,
    through the history's one writer (which tells the cases' observers after commit)."""
    system = lc.Role.SYSTEM.value
    events.record_many([Step(row.id, row.seq + 1, now, None, system, action, row.state,
                             row.state, "", payload(row), row.source_ref) for row in rows])


def _locked(ids: Sequence[int], condition: Q) -> list[Any]:
    """Lock the rows of ``ids`` that still meet ``condition`` (skipping rows another worker
    holds); plain named tuples of the columns the sweep reads."""
    return list(Case.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(condition, pk__in=ids).order_by("pk")
                .values_list(*_ROW, named=True))


def _locked_cases(ids: Sequence[int], condition: Q) -> list[Case]:
    """As :func:`_locked`, as model instances (what ``snapshot_of`` reads)."""
    return list(Case.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(condition, pk__in=ids).only(*_FIELDS).order_by("pk"))


def _flagged_since_due() -> Exists:
    return Exists(CaseEvent.objects.filter(case=OuterRef("pk"), action=OVERDUE,
                                           at__gte=OuterRef("due_at")))


def overdue_condition(now: dt.datetime) -> Q:
    """Open, past its deadline, not yet flagged against this deadline."""
    return Q(state__in=OPEN, due_at__lt=now) & ~_flagged_since_due()


def warn_condition(now: dt.datetime) -> Q:
    """Open, warning point reached, deadline not yet passed, not warned."""
    return Q(state__in=OPEN, warn_at__lte=now, warned_at__isnull=True, due_at__gte=now)


def escalate_condition(cutoff: dt.datetime) -> Q:
    """Still reported below the top tier, and reported (or last escalated) by ``cutoff``."""
    return Q(state=lc.State.REPORTED.value) & ~Q(tier=TOP_TIER) & (
        Q(escalated_at__isnull=True, reported_at__lte=cutoff) | Q(escalated_at__lte=cutoff))


def _candidates(condition: Q) -> list[int]:
    return list(Case.objects.filter(condition).order_by("pk").values_list("pk", flat=True))


def _sweep_overdue(now: dt.datetime, batch_size: int, who: _Recipients) -> tuple[int, int]:
    condition = overdue_condition(now)
    done = notified = 0
    for chunk in _chunks(_candidates(condition), batch_size):
        with transaction.atomic():
            rows = _locked(chunk, condition)
            if not rows:
                continue
            # Re-check in a fresh statement: another worker may have committed its event
            # after our candidate query (row re-checks under a lock do not re-read other tables).
            seen = set(CaseEvent.objects.filter(
                case_id__in=[r.id for r in rows], action=OVERDUE,
                at__gte=F("case__due_at")).values_list("case_id", flat=True))
            rows = [r for r in rows if r.id not in seen and r.due_at is not None
                    and r.due_at < now and r.state in OPEN]
            if not rows:
                continue
            ids = [r.id for r in rows]
            _events(rows, OVERDUE, now, lambda r: {"due_at": r.due_at.isoformat()})
            Case.objects.filter(pk__in=ids).update(
                seq=F("seq") + 1, warned_at=Coalesce("warned_at", Value(now)),
                updated_at=timezone.now())
            notified += _notify(((r, r.tier) for r in rows), OVERDUE, who)
            done += len(rows)
    return done, notified


def _sweep_warnings(now: dt.datetime, batch_size: int, who: _Recipients) -> tuple[int, int]:
    condition = warn_condition(now)
    done = notified = 0
    for chunk in _chunks(_candidates(condition), batch_size):
        with transaction.atomic():
            rows = [r for r in _locked(chunk, condition)
                    if r.warned_at is None and r.warn_at is not None and r.warn_at <= now
                    and r.due_at is not None and r.due_at >= now and r.state in OPEN]
            if not rows:
                continue
            _events(rows, WARN, now, lambda r: {"warn_at": r.warn_at.isoformat(),
                                                "due_at": r.due_at.isoformat()})
            Case.objects.filter(pk__in=[r.id for r in rows]).update(
                seq=F("seq") + 1, warned_at=now, updated_at=timezone.now())
            notified += _notify(((r, r.tier) for r in rows), WARN, who)
            done += len(rows)
    return done, notified


def _sweep_acceptance(now: dt.datetime, batch_size: int, limit: TimeLimit,
                      who: _Recipients) -> tuple[int, int]:
    cutoff = latest_start(now, limit)
    condition = escalate_condition(cutoff)
    action = lc.Action(kind=lc.ActionKind.ESCALATE, reason="超时未受理")
    done = notified = 0
    for chunk in _chunks(_candidates(condition), batch_size):
        with transaction.atomic():
            rows = [r for r in _locked_cases(chunk, condition)
                    if r.state == lc.State.REPORTED.value and r.tier != TOP_TIER
                    and (r.escalated_at or r.reported_at) <= cutoff]
            if not rows:
                continue
            steps: list[Step] = []
            by_tier: dict[str, list[int]] = {}
            raised: list[tuple[Case, str]] = []
            for row in rows:
                tr = lc.apply(snapshot_of(row), action, SYSTEM, now)
                ev = tr.event
                # escalate changes only tier and seq; the grouped update below relies on it
                assert tr.snapshot.seq == row.seq + 1 and tr.snapshot.state.value == row.state
                steps.append(Step(row.pk, ev.seq, ev.at, None, ev.actor_role.value,
                                  ev.action.value, ev.from_state.value, ev.to_state.value,
                                  ev.reason, {**ev.payload, "limit": _limit_text(limit)},
                                  row.source_ref))
                by_tier.setdefault(tr.snapshot.tier.value, []).append(row.pk)
                raised.append((row, tr.snapshot.tier.value))
            events.record_many(steps)
            for tier, ids in by_tier.items():
                Case.objects.filter(pk__in=ids).update(
                    tier=tier, seq=F("seq") + 1, escalated_at=now, updated_at=timezone.now())
            notified += _notify(raised, ESCALATE, who)
            done += len(rows)
    return done, notified


def _limit_text(limit: TimeLimit) -> str:
    return f"{limit.amount} {limit.unit.value}"


def sweep(now: dt.datetime | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE,
          acceptance: TimeLimit | None = None) -> SweepResult:
    """Flag overdue cases, warn cases at their warning point, escalate cases nobody accepted
    in time (see the module docstring); returns the counts.

    Safe to run from several workers at once: no case gets two events for one condition.
    Refuses a naive ``now`` and a batch size below 1 (``ValidationFailed``), changing nothing.
    Closed, rated, merged and rejected cases are never touched.
    """
    now = _aware(now or timezone.now())
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationFailed(f"批大小必须是正整数，收到 {batch_size!r}")
    limit = acceptance or accept_limit()
    who = _Recipients()
    overdue, n1 = _sweep_overdue(now, batch_size, who)
    warned, n2 = _sweep_warnings(now, batch_size, who)
    escalated, n3 = _sweep_acceptance(now, batch_size, limit, who)
    return SweepResult(warned=warned, escalated=escalated, overdue=overdue,
                       notified=n1 + n2 + n3)


# --- after closure -------------------------------------------------------------------------------

def questionnaire_text(row: Case) -> str:
    return (f"您反映的问题（工单 {row.number}）已办结四周，问题是否已解决？"
            f"请通过查询链接告诉我们，如未解决可申请重办。")


def schedule_revisits(now: dt.datetime | None = None, *, days: int | None = None,
                      batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Ask each reporter whether the fix held (FixMyStreet's questionnaire), once per case.

    Cases closed (or rated) at least ``days`` (default :func:`questionnaire_days`) before
    ``now`` with ``questionnaire_sent_at`` empty get it stamped and, after commit, a message to
    the reporter's phone (the case's ``reporter_phone``, else the reporting user's phone).
    Returns how many were stamped; a second call finds nothing to do. Reopened cases are not
    open for it (their state is no longer closed). Refuses a naive ``now`` and negative days.
    """
    now = _aware(now or timezone.now())
    days = questionnaire_days() if days is None else days
    if days < 0:
        raise ValidationFailed(f"回访天数不能为负，收到 {days}")
    condition = Q(state__in=CLOSED, questionnaire_sent_at__isnull=True,
                  closed_at__lte=now - dt.timedelta(days=days))
    done = 0
    for chunk in _chunks(_candidates(condition), batch_size):
        with transaction.atomic():
            rows = list(Case.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(condition, pk__in=chunk).select_related(None)
                        .only("id", "number", "reporter_phone", "reporter_id",
                              "questionnaire_sent_at"))
            rows = [r for r in rows if r.questionnaire_sent_at is None]
            if not rows:
                continue
            Case.objects.filter(pk__in=[r.pk for r in rows]).update(
                questionnaire_sent_at=now, updated_at=timezone.now())
            phones = _reporter_phones(rows)
            messages = [(phones[r.pk], questionnaire_text(r)) for r in rows if phones[r.pk]]

            def send(messages: list[tuple[str, str]] = messages) -> None:
                for phone, text in messages:
                    try:
                        notify(to=phone, text=text, kind="case_questionnaire")
                    except Exception:
                        log.exception("questionnaire to %s failed", phone)

            transaction.on_commit(send)
            done += len(rows)
    return done


def _reporter_phones(rows: Sequence[Case]) -> dict[int, str]:
    from jiayuan.accounts.models import User

    user_phone = dict(User.objects.filter(pk__in={r.reporter_id for r in rows if r.reporter_id})
                      .values_list("pk", "phone"))
    return {r.pk: r.reporter_phone or user_phone.get(r.reporter_id, "") or "" for r in rows}


def pending(now: dt.datetime, *, acceptance: TimeLimit | None = None) -> QuerySet[Case]:
    """Cases the next sweep at ``now`` would act on (read-only; for dashboards and checks)."""
    cutoff = latest_start(_aware(now), acceptance or accept_limit())
    return Case.objects.filter(overdue_condition(now) | warn_condition(now)
                               | escalate_condition(cutoff))
