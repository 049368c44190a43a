"""Public entry point for the sensors module: a sensor signal about a person living alone.

    from jiayuan.care.services.signals import record_signal
    record_signal(entrance=device.entrance, kind="no_activity", at=alarm.raised_at,
                  source_ref=f"sensors.alarm:{alarm.pk}")

Kinds: ``no_activity`` (the absence rule of a door / water / power sensor fired), ``panic``
(panic button), ``smoke`` (smoke detector), ``activity`` (activity seen again: clears
``no_activity``). Exactly one of ``household``, ``entrance`` or ``person`` names the place; every
active person registered there gets the signal. A repeated ``source_ref`` for the same person
and kind changes nothing (the sensors module may retry). Each alarm-like signal creates a
care task (one open task per person: a further signal joins it), and the risk is rescored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from jiayuan.care.models import CareSignal, ElderLivingAlone
from jiayuan.care.risk import LEVEL_LABELS, REASON_LABELS
from jiayuan.care.services.scoring import rescore
from jiayuan.care.services.tasks import raise_task
from jiayuan.core.errors import ValidationFailed

ALARM_KINDS = ("no_activity", "panic", "smoke")
KINDS = (*ALARM_KINDS, "activity")


@dataclass(frozen=True)
class SignalResult:
    elder_id: int
    recorded: bool  # False: a repeat of a source_ref already recorded
    task_id: int | None
    task_created: bool
    level_before: str
    level_after: str


def _targets(household: Any, entrance: Any, person: Any,
             entrance_id: int | None = None) -> list[ElderLivingAlone]:
    given = [x for x in (household, entrance, person, entrance_id) if x is not None]
    if len(given) != 1:
        raise ValidationFailed("请给出且只给出一个：住户、门栋或老人",
                               details={"reason": "target_count", "given": len(given)})
    qs = ElderLivingAlone.objects.select_for_update().filter(active=True)
    if person is not None:
        pk = person.pk if isinstance(person, ElderLivingAlone) else person
        return list(qs.filter(pk=pk))
    if household is not None:
        return list(qs.filter(household=household))
    if entrance_id is not None:
        return list(qs.filter(entrance_id=entrance_id))
    return list(qs.filter(entrance=entrance))


@transaction.atomic
def record_signal(*, kind: str, at: dt.datetime, source_ref: str = "", household: Any = None,
                  entrance: Any = None, person: Any = None,
                  entrance_id: int | None = None) -> list[SignalResult]:
    """Record ``kind`` at ``at`` for the people at the place; returns one result per person
    (an empty list when nobody is registered there). Refuses an unknown kind, a naive
    timestamp, or not exactly one place, changing nothing."""
    if kind not in KINDS:
        raise ValidationFailed("未知的信号类型", details={"reason": "kind", "kind": kind,
                                                     "allowed": list(KINDS)})
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed("信号时间必须带时区", details={"reason": "naive_time"})
    source_ref = (source_ref or "")[:120]
    results: list[SignalResult] = []
    for elder in _targets(household, entrance, person, entrance_id):
        results.append(_apply(elder, kind=kind, at=at, source_ref=source_ref))
    return results


def _apply(elder: ElderLivingAlone, *, kind: str, at: dt.datetime,
           source_ref: str) -> SignalResult:
    if source_ref:
        try:
            with transaction.atomic():
                CareSignal.objects.create(elder=elder, kind=kind, at=at, source_ref=source_ref)
        except IntegrityError:
            return SignalResult(elder.pk, False, None, False, elder.risk_level,
                                elder.risk_level)
    else:
        CareSignal.objects.create(elder=elder, kind=kind, at=at, source_ref="")
    signals = list(elder.active_signals)
    if kind == "activity":
        elder.last_activity_at = max(filter(None, [elder.last_activity_at, at]))
        signals = [s for s in signals if s != "no_activity"]
    elif kind not in signals:
        signals.append(kind)
    elder.active_signals = sorted(signals)
    before, after = rescore(elder, at=at, cause=f"signal:{kind}")
    elder.save(update_fields=["active_signals", "last_activity_at", "risk_level", "risk_score",
                              "risk_reasons", "next_visit_due", "updated_at"])
    task_id, created = None, False
    if kind in ALARM_KINDS:
        reason = None
        if after.rank > before.rank:
            reason = (f"{REASON_LABELS[kind]}：风险从{LEVEL_LABELS[before]}"
                      f"升至{LEVEL_LABELS[after]}")
        task, created = raise_task(elder=elder, kind=kind, at=at, source_ref=source_ref,
                                   reason=reason or "")
        task_id = task.pk
    return SignalResult(elder.pk, True, task_id, created, before.value, after.value)
