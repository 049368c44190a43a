"""A year of demo cases (工单) over the generated district.

Realistic enough to make the case pages, the three rates and the dashboard mean something:

* volume: about ``per_day`` cases a day (street scale ~30), fewer at weekends, a dip over the
  Spring Festival week; seasonality by category — noise, cooking fumes and night building work
  up in summer, snow and ice only in winter;
* texts and category mix from ``cases.routing.synthetic`` (consultations as 12345 requests);
* channels: 12345 hotline about half, grid patrol a quarter, the rest home code, video, sensors,
  deputies, councils, Open311;
* lifecycle: accepted, dispatched by the shipped routing table, handled, verified, closed,
  rated (about four in five satisfied); some rejected, returned and re-dispatched, extended,
  failed at verification, reopened after a dissatisfied rating, supervised, merged into an
  earlier report of the same compound, and some overdue. Recent cases are still open.

Every case's history is a valid lifecycle path: it is produced by replaying
``cases.lifecycle.apply`` in memory, and the resulting rows are bulk-inserted
(``replay_history`` checks a stored history the same way). A small sample of today's cases is
opened through the services (``open_case``, which routes them) instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from jiayuan.cases import lifecycle as lc
from jiayuan.cases.calendar import platform_calendar
from jiayuan.cases.events import Step, record_many
from jiayuan.cases.models import Case, CaseEvent, Category, geo_cell_of
from jiayuan.cases.routing import synthetic
from jiayuan.cases.routing.errors import NoRouteFound
from jiayuan.cases.routing.table import Rule, load_rules, resolve
from jiayuan.cases.services.deadlines import DEFAULT_LIMIT
from jiayuan.cases.services.routing import concrete_unit
from jiayuan.cases.workdays import TimeLimit, TimeUnit, deadline_for, warning_point
from jiayuan.core.errors import Conflict, ValidationFailed
from jiayuan.registry.models import Compound, JointStation, Neighbourhood, Subdistrict

SH = ZoneInfo("Asia/Shanghai")
CHUNK = 2000
CHANNELS: dict[str, float] = {
    "hotline_12345": 0.48, "grid_patrol": 0.25, "home_code": 0.13, "video_ai": 0.05,
    "sensor": 0.02, "deputy": 0.02, "council": 0.02, "open311": 0.03,
}
SUMMER = {"06028": 1.8, "08001": 1.6, "06027": 1.6, "06042": 1.3, "06010": 1.2}
SUMMER_MONTHS = frozenset({6, 7, 8, 9})
WINTER_MONTHS = frozenset({12, 1, 2})
# Spring Festival (春节) eve … sixth day: hotline traffic about halves.
SPRING_FESTIVAL = {2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29),
                   2026: dt.date(2026, 2, 17), 2027: dt.date(2027, 2, 6),
                   2028: dt.date(2028, 1, 26)}
HOUR_WEIGHTS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.5, 2.5, 3.0, 3.0, 2.5, 2.0, 2.5, 2.8, 2.8,
                2.5, 2.2, 2.0, 2.0, 1.8, 1.5, 0.9, 0.4]
RATINGS = (("satisfied", 0.78), ("basically_satisfied", 0.15), ("dissatisfied", 0.07))
P = {"reject": 0.03, "merge": 0.04, "return": 0.06, "extension": 0.05, "approve": 0.8,
     "verify_failed": 0.04, "late": 0.08, "rate": 0.7, "reopen_if_unhappy": 0.5,
     "supervise": 0.03}
Progress = Callable[[str], None]


def season_weight(code: str, month: int) -> float:
    """How much more (or less) often a category is reported in ``month``."""
    if code == "10001":
        return 6.0 if month in WINTER_MONTHS else 0.0
    if month in SUMMER_MONTHS:
        return SUMMER.get(code, 1.0)
    if month in WINTER_MONTHS and code in SUMMER:
        return 0.7
    return 1.0


def day_factor(day: dt.date) -> float:
    """Relative volume of a day: weekends lower, the Spring Festival week about half."""
    f = 0.8 if day.weekday() >= 5 else 1.05
    eve = SPRING_FESTIVAL.get(day.year)
    if eve is not None and eve - dt.timedelta(days=1) <= day <= eve + dt.timedelta(days=6):
        f *= 0.45
    return f


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).decode().rstrip("=")


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


# --- Replaying a history ----------------------------------------------------------------------

def _actor_for(role: str, *, unit: str | None, reporter: str | None) -> lc.Actor:
    if role == "resident":
        return lc.Actor(id=reporter or "token:?", role=lc.Role.RESIDENT)
    return lc.Actor(id=f"demo:{role}", role=lc.Role(role), unit=unit)


def _action_from(e: CaseEvent | Any) -> lc.Action:
    p = e.payload or {}
    ext = None
    if e.action == "request_extension":
        ext = TimeLimit(int(p["extension_amount"]), TimeUnit(p["extension_unit"]))
    assisting = tuple(a for a in str(p.get("assisting_units", "")).split(",") if a)
    return lc.Action(kind=lc.ActionKind(e.action), reason=e.reason,
                     lead_unit=p.get("lead_unit"), assisting_units=assisting,
                     rating=p.get("rating"), into_case=p.get("into_case"), extension=ext)


def replay_history(case: Case, events: Sequence[CaseEvent]) -> lc.CaseSnapshot:
    """Re-apply a stored history through ``lifecycle.apply``; the snapshot it ends in.

    Refuses (the lifecycle's own errors, or ``ValidationFailed``) a history that does not
    start with the report, skips a sequence number, goes back in time, or contains a step the
    state machine would refuse. Non-lifecycle system notes (``route``) only advance ``seq``.
    """
    if not events or events[0].action != "report" or events[0].seq != 1:
        raise ValidationFailed(f"{case.number}: 历史须以上报开始")
    reporter = f"user:{case.reporter_id}" if case.reporter_id else f"token:{case.tracking_token}"
    snap = lc.CaseSnapshot(case_id=str(case.pk), tier=case.tier,
                           reporter_id=reporter, seq=1)
    # The tier may have been raised by escalations; start from the tier before them.
    for e in events:
        if e.action == "escalate":
            snap = lc.CaseSnapshot(case_id=snap.case_id, tier=lc.Tier(e.payload["from_tier"]),
                                   reporter_id=reporter, seq=1)
            break
    last = events[0].at
    for expected, e in enumerate(events[1:], start=2):
        if e.seq != expected:
            raise ValidationFailed(f"{case.number}: 第 {expected} 步缺失")
        if e.at < last:
            raise ValidationFailed(f"{case.number}: 第 {e.seq} 步时间倒退")
        last = e.at
        if e.action == "route":
            snap = replace(snap, seq=snap.seq + 1)
            continue
        actor = _actor_for(e.actor_role, unit=snap.lead_unit, reporter=reporter)
        tr = lc.apply(snap, _action_from(e), actor, e.at)
        if tr.event.to_state.value != e.to_state or tr.event.from_state.value != e.from_state:
            raise ValidationFailed(f"{case.number}: 第 {e.seq} 步状态不符")
        snap = tr.snapshot
    return snap


# --- Planning one case ------------------------------------------------------------------------

@dataclass
class Place:
    compound_id: int
    neighbourhood_id: int
    subdistrict_id: int
    path: str
    lng: float
    lat: float
    span: float
    station: str | None
    neighbourhood: Neighbourhood
    subdistrict: Subdistrict


@dataclass
class Planned:
    case: Case
    events: list[CaseEvent] = field(default_factory=list)
    into_index: int | None = None


class _Writer:
    """Replays one case at a time through the state machine, collecting rows."""

    def __init__(self, rng: random.Random, end: dt.datetime) -> None:
        self.rng = rng
        self.end = end
        self.calendar = platform_calendar()

    def run(self, case: Case, lead: str, assisting: tuple[str, ...],
            merge_into: tuple[int, str] | None) -> tuple[list[lc.CaseEvent], lc.CaseSnapshot]:
        """The case's lifecycle events up to ``end``, and the snapshot they lead to."""
        events: list[lc.CaseEvent] = []
        self.snap = self._play(case, lead, assisting, merge_into, events)
        return events, self.snap

    def _play(self, case: Case, lead: str, assisting: tuple[str, ...],
              merge_into: tuple[int, str] | None,
              events: list[lc.CaseEvent]) -> lc.CaseSnapshot:
        rng = self.rng
        reporter = f"token:{case.tracking_token}"
        snap = lc.CaseSnapshot(case_id="new", tier=lc.Tier(case.tier), reporter_id=reporter,
                               seq=1)
        t = case.reported_at
        dispatcher = "neighbourhood_staff" if case.tier == "neighbourhood" else "duty_officer"
        assignee = "department_staff" if lead.startswith("department:") else \
            "neighbourhood_staff"

        def step(kind: str, role: str, after_hours: float, **kw: Any) -> bool:
            nonlocal snap, t
            when = t + dt.timedelta(hours=after_hours)
            if when > self.end:
                return False
            actor = _actor_for(role, unit=snap.lead_unit, reporter=reporter)
            tr = lc.apply(snap, lc.Action(kind=lc.ActionKind(kind), **kw), actor, when)
            snap, t = tr.snapshot, when
            events.append(tr.event)
            return True

        def hours_until(fraction: float) -> float:
            assert case.due_at is not None
            return max(0.5, (case.due_at - t).total_seconds() / 3600 * fraction)

        if merge_into is not None:
            step("merge", dispatcher, rng.uniform(0.2, 3), into_case=merge_into[1],
                 reason="同一问题重复反映，并单处理")
            return snap
        if rng.random() < P["reject"]:
            step("reject", dispatcher, rng.uniform(0.2, 4), reason="不属于受理范围，已告知反映人")
            return snap
        if not step("accept", dispatcher, rng.uniform(0.1, 3)) or not lead:
            return snap  # (no handling unit known here: waits for a dispatcher)
        rounds = 0
        while rounds < 2:
            rounds += 1
            if not step("dispatch", dispatcher, rng.uniform(0.2, 8), lead_unit=lead,
                        assisting_units=tuple(a for a in assisting if a != lead)):
                return snap
            if rng.random() < P["supervise"] and not step(
                    "supervise", "duty_officer", rng.uniform(2, 30), reason="群众反映强烈，督办"):
                return snap
            if rng.random() < P["return"]:
                if not step("return", assignee, rng.uniform(1, 20), reason="不属于本单位职责"):
                    return snap
                if not step("redispatch", "duty_officer", rng.uniform(1, 12), lead_unit=lead,
                            assisting_units=tuple(a for a in assisting if a != lead)):
                    return snap
            if rng.random() < P["extension"]:
                amount = rng.choice((2, 3, 5))
                if not step("request_extension", assignee, hours_until(0.5),
                            reason="需协调多个部门", extension=TimeLimit(amount,
                                                                   TimeUnit.WORKING_DAYS)):
                    return snap
                if rng.random() < P["approve"]:
                    if not step("approve_extension", "duty_officer", rng.uniform(1, 8)):
                        return snap
                    assert case.due_at is not None
                    case.due_at = deadline_for(case.due_at, TimeLimit(amount,
                                               TimeUnit.WORKING_DAYS), calendar=self.calendar)
                elif not step("refuse_extension", "duty_officer", rng.uniform(1, 8),
                              reason="时限内可以完成"):
                    return snap
            while True:
                late = rng.random() < P["late"]
                frac = rng.uniform(1.05, 2.0) if late else rng.betavariate(2, 3)
                if not step("handle", assignee, hours_until(frac), reason="已到现场处置完毕"):
                    return snap
                if rng.random() < P["verify_failed"] and snap.reopened_count == 0:
                    if not step("verify_failed", dispatcher, rng.uniform(1, 24),
                                reason="现场核查问题仍在"):
                        return snap
                    continue
                break
            if not step("verify_ok", dispatcher, rng.uniform(1, 24)):
                return snap
            if not step("close", dispatcher, rng.uniform(0.2, 6)):
                return snap
            if rng.random() >= P["rate"]:
                return snap
            rating = rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
            who = "resident" if case.channel in ("home_code", "open311") else "duty_officer"
            if not step("rate", who, rng.uniform(2, 72), rating=rating):
                return snap
            if rating != "dissatisfied" or rng.random() >= P["reopen_if_unhappy"] or rounds > 1:
                return snap
            if not step("reopen", who, rng.uniform(0.5, 24), reason="问题没有解决，要求重办"):
                return snap
        return snap


def _snapshot_fields(snap: lc.CaseSnapshot) -> dict[str, Any]:
    from jiayuan.cases.services.transitions import snapshot_fields

    return snapshot_fields(snap)


STAMPS = {"accepted": "accepted_at", "dispatched": "dispatched_at", "handled": "handled_at",
          "closed": "closed_at", "rated": "rated_at"}


def _places() -> list[Place]:
    stations = {s.neighbourhood_id: f"station:{s.code}" for s in JointStation.objects.all()}
    out = []
    for c in Compound.objects.select_related("neighbourhood__subdistrict").order_by("code"):
        if c.lng is None or c.lat is None:
            continue
        n = c.neighbourhood
        span = 0.0015
        out.append(Place(c.pk, n.pk, n.subdistrict_id, c.path, c.lng, c.lat, span,
                         stations.get(n.pk), n, n.subdistrict))
    return out


_unit_memo: dict[tuple[str, int], str | None] = {}


def _concrete(table_ref: str, place: Place) -> str | None:
    """``concrete_unit`` for a place, remembered per neighbourhood (units hang off
    neighbourhoods and subdistricts, so every compound of one neighbourhood gets the same)."""
    key = (table_ref, place.neighbourhood_id)
    if key not in _unit_memo:
        _unit_memo[key] = concrete_unit(table_ref, neighbourhood=place.neighbourhood,
                                        subdistrict=place.subdistrict)
    return _unit_memo[key]


def _units_for(rules: list[Rule], code: str, place: Place,
               memo: dict[tuple[str, int], tuple[str, str, tuple[str, ...], str]]
               ) -> tuple[str, str, tuple[str, ...], str]:
    """(tier, dispatchable lead, assisting, rule id) for a category at a place."""
    key = (code, place.compound_id)
    if key in memo:
        return memo[key]
    try:
        route = resolve(code, place.path, rules)
        refs = [route.lead, *route.assisting]
        tier, rule_id = route.tier, route.rule_id
    except NoRouteFound:
        refs, tier, rule_id = [], "neighbourhood", ""
    concrete = [u for r in refs if (u := _concrete(r, place))]
    # Handlers are departments or joint stations (a centre coordinates, it does not handle).
    handlers = [u for u in dict.fromkeys(concrete) if not u.startswith("centre:")]
    lead = handlers[0] if handlers else (place.station or "")
    memo[key] = (tier, lead, tuple(handlers[1:]), rule_id)
    return memo[key]


def generate_cases(seed: int, *, days: int = 365, per_day: float = 30.0,
                   end: dt.datetime | None = None, through_services: int = 10,
                   progress: Progress | None = None) -> dict[str, int]:
    """Write ``days`` days of demo cases ending at ``end`` (default now); returns counts.

    Refuses (``Conflict``) when demo cases exist already, (``ValidationFailed``) when the
    registry has no compounds or the arguments are out of range. Same seed and end, same
    cases.
    """
    if days < 1 or per_day < 0 or through_services < 0:
        raise ValidationFailed("天数须为正、每日件数不能为负")
    say = progress or (lambda _msg: None)
    end = end or timezone.now()
    if Case.objects.filter(number__contains="D").exists():
        raise Conflict("已有演示工单，请先清空")
    _unit_memo.clear()  # the registry may have been regenerated since the last run
    places = _places()
    if not places:
        raise ValidationFailed("登记库中没有小区，请先生成演示区")
    categories = {c.code: c for c in Category.objects.filter(active=True)}
    codes = [c for c in synthetic.CATEGORY_NAMES if c in categories or c == "99001"]
    consult = categories.get("R-consultation")
    rules = load_rules()
    memo: dict[tuple[str, int], tuple[str, str, tuple[str, ...], str]] = {}
    rng = random.Random(f"demo-cases-{seed}")
    writer = _Writer(rng, end)
    calendar = platform_calendar()
    planned: list[Planned] = []
    recent: dict[int, list[int]] = {}  # compound id → indexes of its recent cases
    start_day = timezone.localtime(end, SH).date() - dt.timedelta(days=days - 1)
    say(f"规划 {days} 天的演示工单")
    for offset in range(days):
        day = start_day + dt.timedelta(days=offset)
        weights = [synthetic.WEIGHTS[c] * season_weight(c, day.month) for c in codes]
        moments = sorted(
            dt.datetime.combine(day, dt.time(rng.choices(range(24), HOUR_WEIGHTS)[0],
                                             rng.randrange(60), rng.randrange(60)), SH)
            for _ in range(_poisson(rng, per_day * day_factor(day))))
        for at in moments:
            if at > end:
                continue
            code = rng.choices(codes, weights)[0]
            category = consult if code == "99001" else categories[code]
            place = rng.choice(places)
            channel = rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
            limit = (TimeLimit.parse(category.time_limit_amount, category.time_limit_unit)
                     if category and category.time_limit_amount and category.time_limit_unit
                     else DEFAULT_LIMIT)
            due = deadline_for(at, limit, calendar=calendar)
            around = limit.unit.value in ("minutes", "calendar_days")
            tier, lead, assisting, rule_id = _units_for(rules, code, place, memo)
            idx = len(planned)
            case = Case(
                number=f"JY{day:%Y%m%d}D{idx:06d}", channel=channel, category=category,
                description=synthetic.make_text(code, rng), tier=tier,
                lng=place.lng + rng.uniform(-place.span, place.span),
                lat=place.lat + rng.uniform(-place.span, place.span),
                compound_id=place.compound_id, neighbourhood_id=place.neighbourhood_id,
                subdistrict_id=place.subdistrict_id, path=place.path,
                reporter_name=rng.choice("张王李赵刘陈杨黄周吴") + rng.choice(("先生", "女士"))
                if channel in ("hotline_12345", "home_code") else "",
                reporter_phone=_phone(rng) if channel == "hotline_12345" else "",
                tracking_token=_token(rng),
                external_id=f"SH{day:%Y%m%d}{idx:06d}" if channel == "hotline_12345" else "",
                reported_at=at, due_at=due,
                warn_at=warning_point(at, due, around_the_clock=around, calendar=calendar),
                routing_source="rule" if rule_id else "triage",
                routing_confidence=1.0 if rule_id else None,
            )
            case.geo_cell = geo_cell_of(case.lng, case.lat)  # bulk_create skips Case.save
            merge_into = None
            near = [j for j in recent.get(place.compound_id, [])
                    if planned[j].case.category_id == case.category_id
                    and planned[j].case.state not in ("merged", "rejected")
                    and at - planned[j].case.reported_at < dt.timedelta(days=7)]
            if near and rng.random() < P["merge"] * 8:
                merge_into = (near[-1], f"idx:{near[-1]}")
            trs, snap = writer.run(case, lead, assisting, merge_into)
            for k, v in _snapshot_fields(snap).items():
                setattr(case, k, v)
            for ev in trs:
                if ev.to_state.value in STAMPS and ev.to_state != ev.from_state:
                    setattr(case, STAMPS[ev.to_state.value], ev.at)
                if ev.action is lc.ActionKind.APPROVE_EXTENSION:
                    case.warned_at = None
            p = Planned(case, into_index=merge_into[0] if merge_into else None)
            p.events = [CaseEvent(seq=1, at=at, actor_role="resident" if channel == "home_code"
                                  else "system", action="report", from_state="",
                                  to_state="reported",
                                  payload={"channel": channel, "due_at": due.isoformat(),
                                           "demo": True})]
            p.events += [CaseEvent(seq=e.seq, at=e.at, actor_role=e.actor_role.value,
                                   action=e.action.value, from_state=e.from_state.value,
                                   to_state=e.to_state.value, reason=e.reason,
                                   payload=dict(e.payload)) for e in trs]
            planned.append(p)
            recent.setdefault(place.compound_id, []).append(idx)
    say(f"写入 {len(planned)} 件工单")
    with transaction.atomic():
        _write(planned)
        sample = _through_services(rng, places, codes, categories, through_services, end)
    counts = {"cases": len(planned) + sample, "events": sum(len(p.events) for p in planned),
              "through_services": sample}
    for state in lc.State:
        counts[f"state_{state.value}"] = sum(p.case.state == state.value for p in planned)
    return counts


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _write(planned: list[Planned]) -> None:
    cases = [p.case for p in planned]
    for chunk in _chunks(cases):
        Case.objects.bulk_create(chunk)
    if any(c.pk is None for c in cases):  # a backend that does not return keys
        by_number = dict(Case.objects.filter(number__in=[c.number for c in cases])
                         .values_list("number", "pk"))
        for c in cases:
            c.pk = c.id = by_number[c.number]
    merged = []
    for p in planned:
        if p.into_index is not None:
            p.case.merged_into_id = planned[p.into_index].case.pk
            merged.append(p.case)
    for chunk in _chunks(merged):
        Case.objects.bulk_update(chunk, ["merged_into"])
    rows = []
    for p in planned:
        for e in p.events:  # unsaved events, completed here and written once
            payload = e.payload
            if e.action == "merge" and p.into_index is not None:
                survivor = planned[p.into_index].case
                payload = {**payload, "into_case": str(survivor.pk),
                           "into_number": survivor.number}
            rows.append(Step(p.case.pk, e.seq, e.at, None, e.actor_role, e.action, e.from_state,
                             e.to_state, e.reason, payload, p.case.source_ref))
    for chunk in _chunks(rows, 5000):
        record_many(chunk)


def _through_services(rng: random.Random, places: list[Place], codes: list[str],
                      categories: dict[str, Category], n: int, end: dt.datetime) -> int:
    """Open ``n`` of today's reports through the services, as a resident or patrol would."""
    from jiayuan.cases.services import open_case

    made = 0
    for i in range(n):
        code = rng.choice([c for c in codes if c != "99001"])
        place = rng.choice(places)
        case, created = open_case(
            channel=rng.choice(("grid_patrol", "home_code", "hotline_12345")),
            description=synthetic.make_text(code, rng), lng=place.lng, lat=place.lat,
            reported_at=end - dt.timedelta(minutes=10 * (n - i)),
            idempotency_key=f"demo-{end:%Y%m%d}-{i}")
        made += created
    return made
