"""Alarms from engine events; a raised alarm opens exactly one case, its clearing is noted.

``record_events`` runs inside the ingest batch's transaction and only writes alarm and
maintenance rows; it returns the follow-ups (open a case, note a clear) that
``follow_up`` performs after the batch commits, each in its own transaction. Opening is
idempotent on ``sensors.alarm:<id>``, so a worker killed between the two steps loses
nothing: ``reconcile`` (a periodic job) opens the cases of alarms still without one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone

from jiayuan.core.errors import InvalidTransition, NotFound
from jiayuan.registry.selectors import LINEAGE_BOUNDARIES
from jiayuan.sensors.models import Alarm, AlarmState, Device, MaintenanceOrder
from jiayuan.sensors.rules.model import Action, AlarmEvent

log = logging.getLogger(__name__)

MAX_UPDATES_KEPT = 20
OPEN = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """What the worker caches of a device."""

    id: int
    code: str
    kind: str
    path: str
    owner_unit: str


@dataclass(frozen=True, slots=True)
class FollowUp:
    action: str  # "open" | "clear"
    alarm_id: int


def _iso(at: dt.datetime) -> str:
    return at.isoformat()


def _open_alarm(device_id: int, rule_id: str) -> Alarm | None:
    return Alarm.objects.filter(device_id=device_id, rule_id=rule_id,
                                state__in=OPEN).first()


def _new_alarm(device: DeviceRef, e: AlarmEvent) -> Alarm:
    return Alarm(
        device_id=device.id, rule_id=e.rule_id, title=e.title[:120] or e.rule_id,
        severity=str(e.severity), category=e.category, message=e.message[:500],
        value=e.value, peak=e.value, reading_key=e.reading_key or "",
        raised_at=e.at, path=device.path,
        payload={"raised": {"at": _iso(e.at), "value": e.value}},
    )


def _suppressed_alarm(device: DeviceRef, e: AlarmEvent) -> Alarm:
    """A raise during maintenance: kept for the record, cleared as it is raised."""
    alarm = _new_alarm(device, e)
    alarm.message = ("维护期间抑制：" + e.message)[:500]
    alarm.cleared_at, alarm.state, alarm.payload = e.at, AlarmState.CLEARED, {"suppressed": True}
    return alarm


def _raise(device: DeviceRef, e: AlarmEvent, followups: list[FollowUp]) -> None:
    existing = _open_alarm(device.id, e.rule_id)
    if existing is not None:  # another worker raised it: this is a further breach
        _update(existing, e)
        return
    try:
        with transaction.atomic():
            alarm = _new_alarm(device, e)
            alarm.save(force_insert=True)
    except IntegrityError:  # raised concurrently by another worker
        existing = _open_alarm(device.id, e.rule_id)
        if existing is not None:
            _update(existing, e)
        return
    followups.append(FollowUp("open", alarm.pk))


def _worsen(alarm: Alarm, e: AlarmEvent) -> None:
    alarm.count += 1
    alarm.value = e.value
    if e.value is not None and (alarm.peak is None or abs(e.value) > abs(alarm.peak)):
        alarm.peak = e.value
    updates = list(alarm.payload.get("updates", []))[-(MAX_UPDATES_KEPT - 1):]
    updates.append({"at": _iso(e.at), "value": e.value, "message": e.message[:200]})
    alarm.payload = {**alarm.payload, "updates": updates}


def _update(alarm: Alarm, e: AlarmEvent) -> None:
    _worsen(alarm, e)
    alarm.save(update_fields=["count", "value", "peak", "payload"])


def _end(alarm: Alarm, e: AlarmEvent) -> None:
    alarm.state = AlarmState.CLEARED
    alarm.cleared_at = e.at
    alarm.payload = {**alarm.payload, "cleared": {"at": _iso(e.at), "value": e.value,
                                                  "message": e.message[:200]}}


def _clear(device: DeviceRef, e: AlarmEvent, followups: list[FollowUp]) -> None:
    alarm = _open_alarm(device.id, e.rule_id)
    if alarm is None:
        return  # already cleared (by another worker, or never stored)
    _end(alarm, e)
    alarm.save(update_fields=["state", "cleared_at", "payload"])
    followups.append(FollowUp("clear", alarm.pk))


def _suppressed(device: DeviceRef, e: AlarmEvent) -> None:
    _suppressed_alarm(device, e).save(force_insert=True)


def record_events(device: DeviceRef, events: Iterable[AlarmEvent],
                  faults_left: tuple[str, ...] = ()) -> list[FollowUp]:
    """Write the alarm and maintenance rows of one device's events (caller's transaction)."""
    from jiayuan.sensors.services import maintenance

    followups: list[FollowUp] = []
    for e in events:
        a = e.action
        if a is Action.RAISE:
            _raise(device, e, followups)
        elif a is Action.UPDATE:
            alarm = _open_alarm(device.id, e.rule_id)
            if alarm is None:
                _raise(device, e, followups)
            else:
                _update(alarm, e)
        elif a is Action.CLEAR:
            _clear(device, e, followups)
        elif a is Action.SUPPRESSED:
            _suppressed(device, e)
        elif a is Action.FAULT:
            maintenance.open_order(device, MaintenanceOrder.Reason.FAULT, e.message, e.at)
        elif a is Action.FAULT_CLEARED:
            maintenance.fault_cleared(device, e, faults_left)
        # silence / recovery: the health job owns them (Device.last_heard_at);
        # out_of_order: counted in the engine state only.
    return followups


_ALARM_ACTIONS = (Action.RAISE, Action.UPDATE, Action.CLEAR)


def record_batch(items: Sequence[tuple[DeviceRef, Sequence[AlarmEvent], tuple[str, ...]]]
                 ) -> list[FollowUp]:
    """``record_events`` for the devices of a batch (device, its events, its faults left),
    in the caller's transaction, with the same rows and follow-ups in the same order: the
    open alarms of all of them read in one query, the new alarms (and suppressed raises)
    inserted in one statement, each alarm already open saved once. If the insert collides
    with an alarm another worker has just raised, nothing of it is kept and the events are
    recorded device by device (``record_events``), which answers that case."""
    from jiayuan.sensors.services import maintenance

    pairs = {(d.id, e.rule_id) for d, events, _ in items for e in events
             if e.action in _ALARM_ACTIONS}
    if not pairs:
        followups: list[FollowUp] = []
        for device, events, faults_left in items:
            followups.extend(record_events(device, events, faults_left))
        return followups
    open_: dict[tuple[int, str], Alarm] = {
        (a.device_id, a.rule_id): a for a in Alarm.objects.filter(
            device_id__in={d for d, _ in pairs}).exclude(state=AlarmState.CLEARED)
        if (a.device_id, a.rule_id) in pairs}
    new: list[Alarm] = []
    changed: dict[int, Alarm] = {}  # alarms already stored, to save (by id)
    steps: list[tuple[str, Alarm]] = []  # the follow-ups, in order
    later: list[tuple[DeviceRef, AlarmEvent, tuple[str, ...]]] = []  # maintenance
    for device, events, faults_left in items:
        for e in events:
            a = e.action
            key = (device.id, e.rule_id)
            if a is Action.RAISE or a is Action.UPDATE:
                alarm = open_.get(key)
                if alarm is None:
                    alarm = open_[key] = _new_alarm(device, e)
                    new.append(alarm)
                    steps.append(("open", alarm))
                    continue
                _worsen(alarm, e)
            elif a is Action.CLEAR:
                alarm = open_.pop(key, None)
                if alarm is None:
                    continue
                _end(alarm, e)
                steps.append(("clear", alarm))
            elif a is Action.SUPPRESSED:
                new.append(_suppressed_alarm(device, e))
                continue
            elif a is Action.FAULT or a is Action.FAULT_CLEARED:
                later.append((device, e, faults_left))
                continue
            else:
                continue
            if alarm.pk is not None:
                changed[alarm.pk] = alarm
    if new:
        try:
            with transaction.atomic():
                Alarm.objects.bulk_create(new)
        except IntegrityError:  # another worker raised one of them meanwhile
            followups = []
            for device, events, faults_left in items:
                followups.extend(record_events(device, events, faults_left))
            return followups
    for alarm in changed.values():  # in device order, as they were met
        alarm.save(update_fields=["count", "value", "peak", "payload", "state", "cleared_at"])
    for device, e, faults_left in later:
        if e.action is Action.FAULT:
            maintenance.open_order(device, MaintenanceOrder.Reason.FAULT, e.message, e.at)
        else:
            maintenance.fault_cleared(device, e, faults_left)
    return [FollowUp(action, alarm.pk) for action, alarm in steps]


# --- after commit -------------------------------------------------------------------------------

# Opened together through the case intake's batch (one classifier call, one read of the
# keys, ids and events written together) when at least this many alarms need a case at once.
BATCH_OPEN_MIN = 4

# A device's place, down to the subdistrict, read with it (the case intake walks entrance →
# building → compound → neighbourhood → subdistrict), without the boundaries.
_PLACE = "entrance__building__compound__neighbourhood__subdistrict"
_NO_BOUNDARIES = tuple(f"entrance__{b}" for b in LINEAGE_BOUNDARIES)


def _with_place(qs: Any) -> Any:
    return qs.select_related(_PLACE).defer(*_NO_BOUNDARIES)


def _device_of(alarm: Alarm) -> Device:
    """The alarm's device with its place loaded: the one read with the alarm when it was
    (``_with_place``), else read now."""
    if Alarm.device.is_cached(alarm):  # type: ignore[attr-defined]
        device = alarm.device
        if device.entrance_id is None or Device.entrance.is_cached(device):  # type: ignore[attr-defined]
            return device
    device = _with_place(Device.objects).get(pk=alarm.device_id)
    alarm.device = device
    return device  # type: ignore[no-any-return]


def _case_args(alarm: Alarm, device: Device) -> dict[str, Any]:
    """What ``open_case`` is told for the case of ``alarm``."""
    from jiayuan.cases.workdays import TimeLimit, TimeUnit
    from jiayuan.sensors.services.categories import (
        category_for_kind,
        installed_category,
        time_limit_minutes,
    )

    code = installed_category(category_for_kind(device.kind))
    place: dict[str, Any] = {}
    if device.entrance_id is not None:
        place["entrance"] = device.entrance
    elif device.lng is not None and device.lat is not None:
        place.update(lng=device.lng, lat=device.lat)
    where = device.address or device.name or ""
    description = (f"【物联感知报警】{alarm.title}（{alarm.severity}）设备 {device.code}"
                   f"{'，' + where if where else ''}：{alarm.message}")
    return dict(
        channel="sensor", description=description[:2000], category_code=code,
        idempotency_key=f"sensors.alarm:{alarm.pk}", reported_at=alarm.raised_at,
        time_limit=TimeLimit(time_limit_minutes(code), TimeUnit.MINUTES),
        tier="operations_centre" if alarm.severity == "Extreme" else None,
        source_ref=f"sensors.alarm:{alarm.pk}", external_id=f"alarm-{alarm.pk}",
        address=device.address, **place,
    )


def open_case_for(alarm: Alarm) -> Any:
    """Open (once) the case of a raised alarm; returns the case."""
    from jiayuan.cases.services import open_case
    from jiayuan.core.errors import ValidationFailed
    from jiayuan.sensors.services.categories import forget_installed

    device = _device_of(alarm)
    try:
        case, _ = open_case(**_case_args(alarm, device))
    except ValidationFailed:
        # The category this process installed may have gone since (a flushed test
        # database, an edited dictionary): install it again and try once more.
        forget_installed()
        case, _ = open_case(**_case_args(alarm, device))
    Alarm.objects.filter(pk=alarm.pk, case__isnull=True).update(case=case)
    alarm.case = case
    return case


def open_cases_for(alarms: list[Alarm]) -> set[int]:
    """Open (once each) the cases of several raised alarms; returns the ids of the alarms
    whose case could not be opened (logged; ``reconcile`` tries again). At least
    ``BATCH_OPEN_MIN`` alarms are opened together, in one transaction through the case
    intake's batch; if that fails for any reason, nothing of it is kept and each alarm is
    opened alone."""
    if len(alarms) >= BATCH_OPEN_MIN:
        try:
            _open_batch(alarms)
            return set()
        except Exception:  # noqa: BLE001 - one by one below finds the culprit
            log.warning("opening the cases of %d alarms together failed; one by one",
                        len(alarms), exc_info=True)
            from jiayuan.sensors.services.categories import forget_installed

            forget_installed()
    failed = set()
    for alarm in alarms:
        try:
            open_case_for(alarm)
        except Exception:  # noqa: BLE001 - reconcile retries; the ingest must go on
            log.exception("opening the case of alarm %s failed", alarm.pk)
            failed.add(alarm.pk)
    return failed


def _open_batch(alarms: list[Alarm]) -> None:
    from django.db.models import BigIntegerField, Value, When
    from django.db.models import Case as Choose

    from jiayuan.cases.services import open_case
    from jiayuan.cases.services.intake import intake_batch

    args = [_case_args(a, _device_of(a)) for a in alarms]
    with transaction.atomic():
        with intake_batch(texts=[x["description"] for x in args],
                          keys=[x["idempotency_key"] for x in args],
                          external_ids=[(x["channel"], x["external_id"]) for x in args]):
            cases = [open_case(**x)[0] for x in args]
        Alarm.objects.filter(pk__in=[a.pk for a in alarms], case__isnull=True).update(
            case_id=Choose(*[When(pk=a.pk, then=Value(c.pk)) for a, c in zip(alarms, cases, strict=True)],
                           output_field=BigIntegerField()))
    for alarm, case in zip(alarms, cases, strict=True):
        alarm.case = case


def note_clear(alarm: Alarm) -> None:
    """Note on the alarm's case that it cleared (opening the case first if it has none)."""
    from jiayuan.cases.services.notes import add_note_by_id

    if alarm.case_id is None:
        open_case_for(alarm)
    assert alarm.case_id is not None
    cleared = alarm.payload.get("cleared", {})
    text = (f"报警已解除：{alarm.title}，设备 {alarm.device.code}"
            f"{'（解除时读数 ' + format(cleared['value'], 'g') + '）' if cleared.get('value') is not None else ''}"
            f"{'' if alarm.acknowledged else '；该报警解除前未被确认'}")
    add_note_by_id(alarm.case_id, text=text,
                   payload={"alarm": alarm.pk, "cleared_at": cleared.get("at"),
                            "acknowledged": alarm.acknowledged})


# Sent after an alarm's case was opened (action "open") or its clearing noted ("clear"), with
# ``alarm``; other modules (elderly care) react without the sensors app knowing them.
alarm_followed_up = Signal()


def follow_up(followups: Iterable[FollowUp]) -> None:
    """Open cases and note clears after the batch committed: the alarms read in one query,
    the cases they need opened together (``open_cases_for``, their devices' places read in
    one query), then each clear noted, in order. Failures are logged and left for
    ``reconcile``; they never undo the batch."""
    followups = list(followups)
    if not followups:
        return
    try:
        alarms = Alarm.objects.select_related("device").in_bulk(
            {f.alarm_id for f in followups})
        need: dict[int, Alarm] = {}
        for f in followups:
            alarm = alarms.get(f.alarm_id)
            if alarm is not None and alarm.case_id is None and f.action in ("open", "clear"):
                need.setdefault(alarm.pk, alarm)
        if need:  # the places of the devices whose alarms need a case, in one query
            placed = _with_place(Device.objects).in_bulk(
                {a.device_id for a in need.values()})
            for alarm in need.values():
                alarm.device = placed.get(alarm.device_id, alarm.device)
    except Exception:  # noqa: BLE001
        log.exception("sensor alarm follow-ups %s failed", followups)
        return
    failed = open_cases_for(list(need.values())) if need else set()
    for f in followups:
        alarm = alarms.get(f.alarm_id)
        if alarm is None:
            log.error("sensor alarm follow-up %s: no such alarm", f)
            continue
        if alarm.pk in failed:
            continue
        try:
            if f.action == "clear":
                note_clear(alarm)
            alarm_followed_up.send_robust(sender=Alarm, alarm=alarm, action=f.action)
        except Exception:  # noqa: BLE001 - reconcile retries; the ingest must go on
            log.exception("sensor alarm follow-up %s failed", f)


def reconcile(now: dt.datetime | None = None, *, older_than_s: float = 10.0) -> int:
    """Open the cases of alarms left without one (a worker died after its commit)."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=older_than_s)
    n = 0
    for alarm in Alarm.objects.filter(case__isnull=True, created_at__lte=cutoff).exclude(
            payload__suppressed=True).select_related("device")[:200]:
        try:
            open_case_for(alarm)
            if alarm.state == AlarmState.CLEARED:
                note_clear(alarm)
            n += 1
        except Exception:  # noqa: BLE001
            log.exception("reconcile of alarm %s failed", alarm.pk)
    return n


# --- human acts ------------------------------------------------------------------------------

@transaction.atomic
def acknowledge(alarm_id: int, *, user: Any) -> Alarm:
    """Lifecycle active → acknowledged, by a staff member of the alarm's area."""
    from jiayuan.accounts.scope import scope_for

    alarm = Alarm.objects.select_for_update().filter(pk=alarm_id).first()
    if alarm is None:
        raise NotFound("找不到该报警")
    scope_for(user).require(alarm.path)
    if alarm.state != AlarmState.ACTIVE:
        raise InvalidTransition("只有未确认的活动报警可以确认",
                                details={"state": alarm.state})
    alarm.state = AlarmState.ACKNOWLEDGED
    alarm.acknowledged = True
    alarm.acknowledged_at = timezone.now()
    alarm.acknowledged_by = user if getattr(user, "is_authenticated", False) else None
    alarm.save(update_fields=["state", "acknowledged", "acknowledged_at", "acknowledged_by"])
    return alarm


def on_alarm_case_event(case: Any, event: Any) -> None:
    """Follow the case of an alarm: keep its last step on the alarm (for the alarm page).
    The case's intake steps (``report``, ``route``) are skipped without a query: the alarm
    knows its case from ``open_case_for``, and the ingest opens many cases at once."""
    from jiayuan.cases.hooks import source_of

    _, ident = source_of(case.source_ref)
    if not ident.isdigit() or event.action in ("note", "report", "route"):
        return
    alarm = Alarm.objects.filter(pk=int(ident)).first()
    if alarm is None:
        return
    alarm.payload = {**alarm.payload, "case_step": {"action": event.action,
                                                    "state": event.to_state,
                                                    "at": event.at.isoformat()}}
    alarm.save(update_fields=["payload"])
