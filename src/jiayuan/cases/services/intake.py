"""Intake: every channel opens a case through ``open_case``.

A case is decided in memory before it is written: placed, categorised and routed (the routing
decision is pure, see :func:`~jiayuan.cases.services.routing.plan_route`), then inserted once
with its final fields. Only its number (which needs the row's id) and its duplicate
suggestions (which need the row) come after the insert. Inside :func:`intake_batch` (the
batch API) the numbers and the ``report``/``route`` events of the whole batch are written in
two statements at the end, and the look-ups the cases share are made once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from jiayuan.accounts.scope import AreaScope
from jiayuan.cases import events as history
from jiayuan.cases.lifecycle import State, Tier
from jiayuan.cases.models import Case, Channel, geo_cell_of
from jiayuan.cases.services.deadlines import deadline_and_warning, limit_of
from jiayuan.cases.workdays import TimeLimit
from jiayuan.core.bulk import draw_ids, insert_all
from jiayuan.core.errors import (
    IdempotencyConflict,
    InvalidCoordinates,
    PlaceOutOfArea,
    ValidationFailed,
)
from jiayuan.registry.geo import CoordinateError
from jiayuan.registry.models import Entrance, Neighbourhood, Subdistrict

MAX_DESCRIPTION = 2000
# A home-code report is placed at its entrance; the reporter's own position may refine it
# within this distance (metres) and is refused beyond it.
HOME_CODE_RADIUS_M = 300.0


@dataclass
class _Pending:
    """What a batch still has to write: its new cases (``unsaved``, on PostgreSQL, where
    their ids are drawn from the sequence up front) or the numbers of those already inserted
    (``cases``), and their events; and what it has read once (cases already opened under
    its keys, the place index)."""

    size: int = 0  # cases the batch may open
    cases: list[Case] = field(default_factory=list)
    unsaved: list[Case] = field(default_factory=list)
    unsaved_rows: list[tuple[Any, ...]] = field(default_factory=list)  # as duplicate candidates
    events: list[history.Step] = field(default_factory=list)
    numbers: dict[int, str] = field(default_factory=dict)
    by_key: dict[str, Case | None] = field(default_factory=dict)
    by_external: dict[tuple[str, str], Case | None] = field(default_factory=dict)
    index: Any = None
    district_path: str | None = None
    ids: list[int] | None = None

    def take_id(self) -> int | None:
        """The id of the batch's next new case, drawn from the table's sequence with the
        others in one query; None where there is no sequence to draw from (SQLite): then
        the case is inserted at once, as outside a batch."""
        from django.db import connection

        if connection.vendor != "postgresql":
            return None
        if not self.ids:
            self.ids = draw_ids(Case, max(1, self.size - len(self.unsaved)))[::-1]
        return self.ids.pop()

    def add(self, case: Case, events: list[history.Step], *, saved: bool) -> None:
        if saved:
            self.cases.append(case)
            self.numbers[case.pk] = case.number
        else:
            from jiayuan.cases.services.duplicates import candidate_row

            self.unsaved.append(case)
            self.unsaved_rows.append(candidate_row(case))
        self.events.extend(events)
        if case.idempotency_key:
            self.by_key[case.idempotency_key] = case
        if case.external_id:
            self.by_external[(case.channel, case.external_id)] = case

    def write(self) -> None:
        insert_all(self.unsaved)
        _write(self.cases, self.events)
        self.cases, self.unsaved, self.unsaved_rows, self.events = [], [], [], []


def _write(cases: list[Case], events: list[history.Step]) -> None:
    """Give inserted cases their numbers and insert their events, in two statements (the
    events through the history's one writer, which tells the observers after commit)."""
    if len(cases) == 1:
        Case.objects.filter(pk=cases[0].pk).update(number=cases[0].number)
    elif cases:
        from django.db import connection

        table = connection.ops.quote_name(Case._meta.db_table)
        with connection.cursor() as cur:  # one prepared statement, pipelined
            cur.executemany(f"UPDATE {table} SET number = %s WHERE id = %s",  # noqa: S608
                            [(c.number, c.pk) for c in cases])
    history.record_many(events)


_pending: ContextVar[_Pending | None] = ContextVar("intake_batch", default=None)


@contextmanager
def intake_batch(*, texts: list[str], keys: Sequence[str] = (),
                 external_ids: Sequence[tuple[str, str]] = (),
                 caller: str = "") -> Iterator[None]:
    """Open many cases (``open_case`` calls inside) as one batch: one classifier call for
    ``texts``, one read of the routing table, of the cases already opened under ``keys`` (by
    ``caller``, the batch's one caller) or ``external_ids`` (channel, id) and of the place
    index; their numbers and events are written together when the block ends without error.
    Use it inside the batch's transaction."""
    from jiayuan.cases.calendar import calendar_batch
    from jiayuan.cases.services.routing import routing_batch

    pending = _Pending(size=len(texts))
    # Ids first (a narrow query; most keys are new), whole cases only for those found.
    if keys:
        ids = dict(Case.objects.filter(
            intake_caller=caller, idempotency_key__in=list(keys)).values_list(
            "idempotency_key", "pk"))
        found = _with_related(Case.objects).in_bulk(list(ids.values())) if ids else {}
        pending.by_key = {k: found.get(ids[k]) if k in ids else None for k in keys}
    wanted = [(ch, e) for ch, e in external_ids if e]
    if wanted:
        ids_by = {(ch, e): pk for ch, e, pk in Case.objects.filter(
            external_id__in=[e for _, e in wanted], channel__in={ch for ch, _ in wanted},
        ).values_list("channel", "external_id", "pk")}
        found = _with_related(Case.objects).in_bulk(list(ids_by.values())) if ids_by else {}
        pending.by_external = {w: found.get(ids_by[w]) if w in ids_by else None
                               for w in wanted}
    token = _pending.set(pending)
    try:
        with routing_batch(texts), calendar_batch():
            yield
        pending.write()
    finally:
        _pending.reset(token)


def _with_related(qs: Any) -> Any:
    return qs.select_related("category", "compound", "neighbourhood")


def _clean_text(description: Any) -> str:
    text = (description or "").strip() if isinstance(description, str) else ""
    if not text:
        raise ValidationFailed("请填写问题描述", details={"description": ["必填"]})
    if len(text) > MAX_DESCRIPTION:
        raise ValidationFailed(f"问题描述不能超过 {MAX_DESCRIPTION} 字",
                               details={"description": ["过长"]})
    return text


def _place(lng: Any, lat: Any, crs: str | None,
           entrance: Entrance | None) -> dict[str, Any]:
    """Locate the case: an entrance (home code) wins; else the point; else nothing.

    A case from an entrance is placed in the entrance's compound, whatever point comes with
    it: the point only refines the position, and only within ``HOME_CODE_RADIUS_M`` of the
    entrance; a point farther away is refused (``ValidationFailed``, details ``position``),
    so a browser's position cannot move a report into another neighbourhood."""
    has_point = not (lng in (None, "") and lat in (None, ""))
    if has_point:
        from jiayuan.registry.geo import to_wgs84

        try:
            x, y = to_wgs84(lng, lat, crs)
        except CoordinateError as exc:
            raise InvalidCoordinates(str(exc)) from None
    if entrance is not None:
        compound = entrance.building.compound
        n = compound.neighbourhood
        at_lng, at_lat = entrance.lng or compound.lng, entrance.lat or compound.lat
        if has_point and at_lng is not None and at_lat is not None:
            from jiayuan.cases.services.duplicates import distance_m

            if distance_m(x, y, at_lng, at_lat) > HOME_CODE_RADIUS_M:
                raise ValidationFailed(
                    f"您的位置距扫码的楼组超过 {HOME_CODE_RADIUS_M:.0f} 米，未提交。"
                    "请在现场扫码反映，或不使用当前位置再提交（将以该楼组为位置）",
                    details={"position": ["距楼组过远"]})
            at_lng, at_lat = x, y
        return {"entrance": entrance, "compound": compound, "neighbourhood": n,
                "subdistrict": n.subdistrict, "lng": at_lng, "lat": at_lat,
                "grid_cell_code": ""}
    if not has_point:
        return {}
    from jiayuan.cases.services.routing import compound_by_code
    from jiayuan.registry.selectors import place_index

    pending = _pending.get()
    if pending is None:
        index = place_index()
    else:
        if pending.index is None:
            pending.index = place_index()
        index = pending.index
    loc = index.locate(x, y)
    out: dict[str, Any] = {"lng": x, "lat": y, "grid_cell_code": loc.grid_cell or ""}
    if loc.compound:
        out["compound"] = compound_by_code(loc.compound, version=index)
        out["neighbourhood"] = out["compound"].neighbourhood
        out["subdistrict"] = out["neighbourhood"].subdistrict
    elif loc.neighbourhood:
        out["neighbourhood"] = Neighbourhood.objects.select_related("subdistrict").defer(
            "boundary", "subdistrict__boundary").get(code=loc.neighbourhood)
        out["subdistrict"] = out["neighbourhood"].subdistrict
    elif loc.subdistrict:
        out["subdistrict"] = Subdistrict.objects.get(code=loc.subdistrict)
    return out


def _path_of(place: dict[str, Any]) -> str:
    for key in ("compound", "neighbourhood", "subdistrict"):
        if place.get(key) is not None:
            return str(place[key].path)
    pending = _pending.get()
    if pending is not None and pending.district_path is not None:
        return pending.district_path
    from jiayuan.registry.selectors import the_district

    district = the_district()
    path = district.path if district else ""
    if pending is not None:
        pending.district_path = path
    return path


def open_case(
    *,
    channel: str,
    description: str,
    category_code: str | None = None,
    lng: Any = None,
    lat: Any = None,
    crs: str | None = "wgs84",
    address: str = "",
    entrance: Entrance | None = None,
    reporter: Any = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    external_id: str = "",
    idempotency_key: str | None = None,
    reported_at: dt.datetime | None = None,
    actor: Any = None,
    tier: str | None = None,
    time_limit: TimeLimit | None = None,
    source_ref: str = "",
    route: bool = True,
    report_payload: dict[str, Any] | None = None,
    caller: str = "",
    request_hash: str = "",
    scope: AreaScope | None = None,
) -> tuple[Case, bool]:
    """Open a case from any channel; returns ``(case, created)``.

    A repeated ``idempotency_key`` of the same ``caller``, or a repeated ``external_id`` on
    the same channel, returns the case already opened (``created`` False) and creates
    nothing. ``caller`` (``user:<id>`` for an API caller, empty for the platform's own
    modules) scopes the key: another caller's key is another key. Refuses
    (``IdempotencyConflict``, 409, telling nothing of the earlier case) a repeated
    ``external_id`` that another caller sent, and a replay whose ``request_hash`` differs
    from the first request's. With a ``scope`` (an API caller's area), refuses a case placed
    outside it (``PlaceOutOfArea``) without telling where it lies. Refuses an unknown
    channel or category, an empty description and bad coordinates, and a home-code
    (``entrance``) report whose point lies more than ``HOME_CODE_RADIUS_M`` from the
    entrance, creating nothing.

    Other modules (sensors, councils, deputies) call this too: ``tier`` overrides the
    category's default tier (a council escalation opens at the ``operations_centre`` tier), ``time_limit``
    overrides the category's time limit (a sensor alarm is due in minutes) and ``source_ref``
    names what raised the case (``sensors.alarm:42``) so that module can follow its outcome
    through :mod:`jiayuan.cases.hooks`.

    A new case is routed at once, before it is written (its row is inserted once, already
    routed; an explicit ``tier`` is kept); a caller that still has to adjust the case's place
    first passes ``route=False`` and routes it itself
    (:func:`~jiayuan.cases.services.routing.route_new_case`).

    ``report_payload`` adds what the channel knows to the ``report`` event's payload (an
    Open311 request's details, an import's source row), so the event is complete when it is
    written; ``channel`` and ``due_at`` are always the intake's own.
    """
    if channel not in Channel.values:
        raise ValidationFailed(f"未知渠道“{channel}”", details={"channel": list(Channel.values)})
    text = _clean_text(description)
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 100):
        raise ValidationFailed("幂等键长度须为 1 到 100 个字符")
    existing = _existing(channel, external_id, idempotency_key, caller)
    if existing is not None:
        return _replayed(existing, caller, request_hash), False
    from jiayuan.cases.services import routing

    category = None
    if category_code:
        category = routing.active_category(category_code)
        if category is None:
            raise ValidationFailed(f"未知的问题类别“{category_code}”",
                                   details={"category": [category_code]})
    place = _place(lng, lat, crs, entrance)
    path = _path_of(place)
    now = reported_at or timezone.now()
    if tier is not None and tier not in {t.value for t in Tier}:
        raise ValidationFailed(f"未知的处置层级“{tier}”",
                               details={"tier": [t.value for t in Tier]})
    if len(source_ref) > 64:
        raise ValidationFailed("来源标识不能超过 64 个字符")
    due, warn = deadline_and_warning(time_limit or limit_of(category), now)
    case = Case(
        # A unique placeholder until the id is known (the number is ``JY<date><id>``).
        number=f"tmp-{uuid.uuid4().hex[:20]}",
        channel=channel, category=category, description=text,
        tier=tier or (category.default_tier if category else "neighbourhood"),
        source_ref=source_ref,
        address=(address or "").strip()[:200], path=path,
        reporter=reporter if getattr(reporter, "is_authenticated", False) else None,
        reporter_name=reporter_name.strip()[:50],
        reporter_phone=reporter_phone.strip()[:30], external_id=external_id or "",
        idempotency_key=idempotency_key, intake_caller=caller, request_hash=request_hash,
        reported_at=now, due_at=due, warn_at=warn,
        seq=1, **place,
    )
    outcome = None
    if route:
        outcome, _ = routing.plan_route(case, keep_tier=tier is not None,
                                        keep_deadline=time_limit is not None)
        case.seq = 2
    if scope is not None and not scope.covers(case.path) and (
            case.compound is not None or case.neighbourhood is not None
            or case.subdistrict is not None):
        # Placed (by its point, its home code or its address) outside the caller's area:
        # refused before anything is written, and without naming the place.
        raise PlaceOutOfArea()
    report = {  # the ``report`` step, once the case's id is known
        "seq": 1, "at": now, "actor": actor, "action": "report", "from_state": "",
        "actor_role": getattr(actor, "role", "") or ("resident" if channel == "home_code"
                                                     else "system"),
        "to_state": State.REPORTED.value,
        "payload": {**(report_payload or {}), "channel": channel, "due_at": due.isoformat()},
    }
    pending = _pending.get()
    pk = pending.take_id() if pending is not None else None
    if pending is not None and pk is not None:
        # In a batch on PostgreSQL: numbered now, inserted with the others when the batch
        # is written (a key taken meanwhile by a concurrent retry fails the whole batch,
        # which the caller runs again).
        case.pk = pk
        case.number = _number(now, pk)
        case.geo_cell = geo_cell_of(case.lng, case.lat)
        events = [history.step(case, **report)]
        if outcome is not None:
            outcome = routing.with_duplicates(case, outcome, earlier=pending.unsaved_rows)
            events.append(routing.route_event(case, outcome))
        _as_read(case)
        pending.add(case, events, saved=False)
        return case, True
    try:
        with transaction.atomic():
            case.save(force_insert=True)
            case.number = _number(now, case.pk)
            events = [history.step(case, **report)]
            if outcome is not None:
                outcome = routing.with_duplicates(
                    case, outcome, pending.numbers if pending is not None else None)
                events.append(routing.route_event(case, outcome))
            if pending is None:
                _write([case], events)
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its case.
        existing = _existing(channel, external_id, idempotency_key, caller, fresh=True)
        if existing is None:
            raise
        return _replayed(existing, caller, request_hash), False
    _as_read(case)
    if pending is not None:
        pending.add(case, events, saved=True)
    return case, True


def _number(reported_at: dt.datetime, pk: int) -> str:
    """A case's number: ``JY`` + its Shanghai date + its id."""
    return f"JY{timezone.localtime(reported_at):%Y%m%d}{pk:07d}"


def _as_read(case: Case) -> None:
    """Times as the database answers them (UTC), so a retry's answer reads the same."""
    case.reported_at, case.due_at, case.warn_at = (
        None if t is None else t.astimezone(dt.UTC)
        for t in (case.reported_at, case.due_at, case.warn_at))


def _replayed(existing: Case, caller: str, request_hash: str) -> Case:
    """``existing`` as the answer to a replay, or ``IdempotencyConflict``: the case must be
    the caller's own (an ``external_id`` is a real-world id another caller may send too)
    and, where both requests were hashed, opened by the same request."""
    if existing.intake_caller != caller:
        raise IdempotencyConflict("该外部编号已由其他调用方提交，未重复创建",
                                  details={"external_id": ["已被其他调用方使用"]})
    if request_hash and existing.request_hash and request_hash != existing.request_hash:
        raise IdempotencyConflict("该幂等键（或外部编号）已用于内容不同的另一个请求，未创建",
                                  details={"idempotency_key": ["请求内容不同"]})
    return existing


def _existing(channel: str, external_id: str, idempotency_key: str | None, caller: str = "",
              *, fresh: bool = False) -> Case | None:
    pending = None if fresh else _pending.get()
    if pending is not None:
        if idempotency_key and idempotency_key in pending.by_key:
            found = pending.by_key[idempotency_key]
            if found is not None or not external_id:
                return found
        if external_id and (channel, external_id) in pending.by_external:
            return pending.by_external[(channel, external_id)]
    if idempotency_key:
        found = Case.objects.filter(intake_caller=caller,
                                    idempotency_key=idempotency_key).first()
        if found:
            return found
    if external_id:
        return Case.objects.filter(channel=channel, external_id=external_id).first()
    return None
